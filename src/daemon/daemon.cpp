#include "tund/daemon/daemon.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <memory>

#include "tund/config/cli.hpp"
#include "tund/daemon/stats_report.hpp"
#include "tund/device/netif.hpp"
#include "tund/device/tun_device.hpp"
#include "tund/transport/backoff.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/transport/tcp_client.hpp"
#include "tund/transport/tcp_server.hpp"
#include "tund/transport/udp_transport.hpp"
#include "tund/tunnel/engine.hpp"

namespace tund::daemon {
namespace {

using config::Config;

constexpr auto kBackoffInitial = std::chrono::milliseconds(250);
constexpr auto kBackoffCap = std::chrono::seconds(5);

transport::Backoff make_backoff() {
  return transport::Backoff(kBackoffInitial, kBackoffCap, transport::system_random());
}

std::unique_ptr<device::TunDevice> open_device(asio::io_context& io, const Config& cfg) {
  device::TunOptions options;
  options.name = cfg.iface;
  options.link_layer =
      cfg.device == config::DeviceKind::tap ? device::LinkLayer::ethernet : device::LinkLayer::ip;
  // An explicit --mtu always applies; otherwise only a device tund creates gets the default,
  // and a persistent device keeps the MTU its owner gave it.
  options.mtu = cfg.mtu;
  if (!options.mtu && !device::probe_interface(cfg.iface).exists) options.mtu = proto::kDefaultMtu;
  return std::make_unique<device::TunDevice>(io, options);
}

std::unique_ptr<transport::Transport> make_transport(asio::io_context& io, const Config& cfg,
                                                     std::size_t max_frame, util::Logger& log) {
  bool server = cfg.role == config::Role::server;
  std::vector<transport::Endpoint> remote;
  if (!server) remote = transport::resolve(io, cfg.remote_host, cfg.port);
  asio::ip::address listen = server ? transport::listen_address(cfg.listen) : asio::ip::address();
  if (cfg.transport == config::TransportKind::udp) {
    transport::UdpOptions options{server, remote, listen, cfg.port, max_frame, cfg.keepalive};
    return std::make_unique<transport::UdpTransport>(io, options, log, make_backoff());
  }
  if (server) return std::make_unique<transport::TcpServer>(io, listen, cfg.port, max_frame, log);
  return std::make_unique<transport::TcpClient>(io, remote, max_frame, log, make_backoff());
}

std::string describe(const Config& cfg, const device::TunDevice& dev) {
  return std::string(cfg.role == config::Role::server ? "server" : "client") + ", " +
         (cfg.device == config::DeviceKind::tap ? "TAP " : "TUN ") + dev.name() + " (mtu " +
         std::to_string(dev.mtu()) + (dev.was_persistent() ? ", persistent" : ", created") + "), " +
         (cfg.transport == config::TransportKind::udp ? "udp" : "tcp");
}

}  // namespace

int run(const Config& cfg) {
  util::Logger log(cfg.debug ? util::LogLevel::debug : util::LogLevel::info);
  asio::io_context io(1);  // one thread: no locks anywhere on the data path
  std::unique_ptr<device::TunDevice> dev;
  std::unique_ptr<transport::Transport> net;
  try {
    dev = open_device(io, cfg);
    bool tap = cfg.device == config::DeviceKind::tap;
    net = make_transport(io, cfg, proto::max_frame_size(dev->mtu(), tap), log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tund: error: %s\n", e.what());
    return 1;
  }

  tunnel::Engine engine(*dev, *net, log);
  log.info("tund ", config::kVersion, " starting: ", describe(cfg, *dev));

  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  stop_signals.async_wait([&](std::error_code ec, int signal) {
    if (ec) return;
    log.info("received ", signal == SIGINT ? "SIGINT" : "SIGTERM", ", shutting down");
    engine.stop();
    io.stop();
  });
  asio::signal_set report_signal(io, SIGUSR1);
  std::function<void()> report = [&] {
    report_signal.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      log.info(format_stats(engine.stats(), net->stats()));
      report();
    });
  };
  report();

  engine.start();
  io.run();

  log.info(format_stats(engine.stats(), net->stats()));
  log.info("device ", dev->name(),
           dev->was_persistent() ? " left in place (persistent)" : " removed");
  return 0;
}

}  // namespace tund::daemon
