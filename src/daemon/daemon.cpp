#include "tund/daemon/daemon.hpp"

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "tund/config/cli.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/daemon/hooks.hpp"
#include "tund/daemon/privileges.hpp"
#include "tund/daemon/secure_channel.hpp"
#include "tund/daemon/stats_report.hpp"
#include "tund/daemon/systemd_notify.hpp"
#include "tund/device/netif.hpp"
#include "tund/device/tun_device.hpp"
#include "tund/link/responder.hpp"
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
  options.offload = cfg.offload;
  if (!options.mtu && !device::probe_interface(cfg.iface).exists) options.mtu = proto::kDefaultMtu;
  return std::make_unique<device::TunDevice>(io, options);
}

// Reads and checks every key at start-up, so a bad key file is a one-line error and an
// exit, never a tunnel that silently runs without encryption.
std::unique_ptr<SecureChannel> make_security(const Config& cfg) {
  if (!cfg.encrypted()) return nullptr;
  crypto::init_sodium();
  crypto::SecureConfig sc;
  sc.initiator = cfg.role == config::Role::client;
  sc.private_key = crypto::read_secret_key_file(cfg.private_key_file);
  if (sc.initiator) sc.peer_public = crypto::read_public_key(cfg.peer_key);
  for (const auto& key : cfg.allow) sc.allowed.push_back(crypto::read_public_key(key));
  for (const auto& file : cfg.allow_files)
    for (const auto& key : crypto::read_allow_file(file)) sc.allowed.push_back(key);
  if (!sc.initiator && sc.allowed.empty())
    throw crypto::KeyError("no allowed client keys (--allow / --allow-file are empty)");
  if (!cfg.psk_file.empty()) sc.psk = crypto::read_secret_key_file(cfg.psk_file);
  sc.stream = cfg.transport == config::TransportKind::tcp;
  sc.offer_aes = crypto::aes256gcm_available();
  // For tests only: a short rekey interval to watch several rekeys in seconds.
  if (const char* rekey = std::getenv("TUND_TEST_REKEY_SECONDS")) {
    auto seconds = std::chrono::seconds(std::max(1, std::atoi(rekey)));
    sc.rekey_after_time = seconds;
    sc.reject_after_time = seconds + seconds / 2 + std::chrono::seconds(1);
  }
  return std::make_unique<SecureChannel>(std::move(sc));
}

std::unique_ptr<transport::Transport> make_transport(asio::io_context& io, const Config& cfg,
                                                     std::size_t max_frame, util::Logger& log,
                                                     transport::Security* security) {
  bool server = cfg.role == config::Role::server;
  transport::RemoteServer remote{cfg.remote_host, cfg.port, {}};
  if (!server) remote.addresses = transport::resolve(io, cfg.remote_host, cfg.port);
  asio::ip::address listen = server ? transport::listen_address(cfg.listen) : asio::ip::address();
  if (cfg.transport == config::TransportKind::udp) {
    transport::UdpOptions options{server,    remote,        listen,   cfg.port,
                                  max_frame, cfg.keepalive, security, cfg.offload};
    return std::make_unique<transport::UdpTransport>(io, options, log, make_backoff());
  }
  if (server)
    return std::make_unique<transport::TcpServer>(io, listen, cfg.port, max_frame, log, security,
                                                  cfg.max_pending);
  return std::make_unique<transport::TcpClient>(io, remote, max_frame, log, make_backoff(),
                                                security);
}

// --address/--peer: tund configures the device itself (idempotent, like `ip addr replace`).
void configure_device(const Config& cfg, const device::TunDevice& dev) {
  if (cfg.address.empty()) return;
  device::set_address(dev.name(), cfg.address, cfg.peer);
  device::set_link_up(dev.name());
}

std::unique_ptr<link::Responder> make_responder(const Config& cfg, const device::TunDevice& dev) {
  link::ResponderConfig rc;
  rc.ethernet = cfg.device == config::DeviceKind::tap;
  rc.tunnel_mtu = dev.mtu();
  if (!cfg.link_ip.empty()) {
    rc.link_ip = link::parse_ipv4(cfg.link_ip);
    if (!rc.link_ip)
      throw std::runtime_error("--link-ip: '" + cfg.link_ip + "' is not an IPv4 address");
  }
  rc.link_mac = link::mac_from_name(dev.name());
  if (!cfg.link_mac.empty()) {
    auto mac = link::parse_mac(cfg.link_mac);
    if (!mac) throw std::runtime_error("--link-mac: '" + cfg.link_mac + "' is not a unicast MAC");
    rc.link_mac = *mac;
  }
  return std::make_unique<link::Responder>(rc);
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
  std::unique_ptr<SecureChannel> security;
  std::unique_ptr<device::TunDevice> dev;
  std::unique_ptr<link::Responder> responder;
  std::unique_ptr<transport::Transport> net;
  try {
    security = make_security(cfg);
    dev = open_device(io, cfg);
    configure_device(cfg, *dev);
    responder = make_responder(cfg, *dev);
    bool tap = cfg.device == config::DeviceKind::tap;
    net = make_transport(io, cfg, proto::max_frame_size(dev->mtu(), tap), log, security.get());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tund: error: %s\n", e.what());
    return 1;
  }
  log.info("tund ", config::kVersion, " starting: ", describe(cfg, *dev));
  log.info(dev->offload_status());
  auto hook_env = hook_environment({&cfg, dev->name(), dev->mtu()});
  if (!cfg.up_command.empty() && run_hook("up", cfg.up_command, hook_env, log) != 0) {
    std::fprintf(stderr, "tund: error: the --up hook failed; not starting\n");
    return 1;
  }
  if (!cfg.user.empty()) {
    try {
      drop_privileges(cfg.user, cfg.group);
      log.info("running as user ", cfg.user, " (keeping CAP_NET_ADMIN only)");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tund: error: %s\n", e.what());
      return 1;
    }
  }

  tunnel::Engine engine(*dev, *net, log, responder.get());
  SystemdNotifier notifier;
  bool server = cfg.role == config::Role::server;
  engine.set_peer_observer([&](bool up) {
    // A client is ready once the tunnel carries traffic; a server once it listens.
    if (up)
      notifier.ready(server ? "client connected" : "connected to " + cfg.remote_host);
    else
      notifier.status(server ? "waiting for a client" : "reconnecting to " + cfg.remote_host);
  });
  auto report = [&] {
    std::string line =
        format_stats(engine.stats(), net->stats(), security ? &security->stats() : nullptr);
    log.info(line);
    log.info(format_link_stats(responder->stats()));
    if (dev->offload_enabled())
      log.info(format_offload_stats(dev->offload_stats(), dev->last_bad_read()));
  };

  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  stop_signals.async_wait([&](std::error_code ec, int signal) {
    if (ec) return;
    log.info("received ", signal == SIGINT ? "SIGINT" : "SIGTERM", ", shutting down");
    notifier.stopping();
    // While the device still exists, so the script can remove what refers to it.
    if (!cfg.down_command.empty())
      run_hook("down", cfg.down_command, hook_environment({&cfg, dev->name(), dev->mtu()}), log);
    engine.stop();
    io.stop();
  });
  // TEMPORARY minimal wiring (issue 10 helper A, replaced by helper C's at merge): the
  // device is gone -> log, --down, exit status 1 so that Restart=on-failure restarts tund.
  int exit_status = 0;
  engine.set_failure_handler([&](const std::string& why) {
    log.error(why, "; stopping");
    notifier.stopping();
    if (!cfg.down_command.empty())
      run_hook("down", cfg.down_command, hook_environment({&cfg, dev->name(), dev->mtu()}), log);
    exit_status = 1;
    io.stop();
  });
  asio::signal_set report_signal(io, SIGUSR1);
  std::function<void()> wait_report = [&] {
    report_signal.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      report();
      wait_report();
    });
  };
  wait_report();
  asio::steady_timer watchdog(io);
  std::function<void()> pet = [&] {
    if (!engine.healthy()) return;  // a failed engine must not look alive to systemd
    notifier.watchdog();
    watchdog.expires_after(*notifier.watchdog_period());
    watchdog.async_wait([&](std::error_code ec) {
      if (!ec) pet();
    });
  };
  if (notifier.watchdog_period()) pet();

  engine.start();
  if (server) notifier.ready("listening on port " + std::to_string(cfg.port));
  io.run();

  report();
  if (engine.healthy())
    log.info("device ", dev->name(),
             dev->was_persistent() ? " left in place (persistent)" : " removed");
  return exit_status;
}

}  // namespace tund::daemon
