#include "swarm/swarm_client.hpp"

#include <stdexcept>

#include "tund/crypto/keys.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/tcp_client.hpp"
#include "tund/transport/udp_transport.hpp"
#include "tund/util/backoff.hpp"

namespace tund::swarm {
namespace {

// The transports gained a local bind address with issue 13 (`bind_address`); a build
// without it still runs a swarm from one source address.
template <class Options>
void set_source(Options& options, const std::optional<asio::ip::address>& source) {
  if constexpr (requires { options.bind_address; }) {
    options.bind_address = source;
  } else if (source) {
    throw std::runtime_error("--source-net: this build's transports cannot bind a source address");
  }
}

util::Backoff make_backoff() {
  return util::Backoff(proto::kBackoffInitial, proto::kBackoffCap, util::system_random());
}

std::unique_ptr<transport::Transport> make_transport(asio::io_context& io,
                                                     const SwarmSettings& settings,
                                                     const ClientSpec& spec, util::Logger& log) {
  if (settings.udp) {
    transport::UdpOptions options;
    options.remote = settings.server;
    options.encrypted = true;
    set_source(options, spec.source);
    return std::make_unique<transport::UdpTransport>(io, options, log);
  }
  transport::TcpOptions options;
  options.encrypted = true;
  set_source(options, spec.source);
  return std::make_unique<transport::TcpClient>(io, settings.server, log, make_backoff(), options);
}

std::unique_ptr<crypto::Identity> make_identity(const SwarmSettings& settings,
                                                const ClientSpec& spec) {
  crypto::IdentityConfig ic;
  ic.private_key = spec.private_key;
  ic.psk = settings.psk;
  ic.offer_aes = crypto::aes256gcm_available();
  return std::make_unique<crypto::Identity>(std::move(ic));
}

// Fields a client leaves at their defaults (the hub's peers, say) are not named, so the
// tool builds against the engine with or without them: the warning for unnamed members is
// off here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// As the daemon's engine_parts() for a client (src/daemon/startup.cpp); no responder in
// the engine: the device's own answers the server, as the host behind a client would.
tunnel::EngineParts engine_parts(const SwarmSettings& settings, device::Device& device,
                                 transport::Transport& net, util::Logger& log,
                                 crypto::Identity& identity) {
  tunnel::PeerConfig peer;
  peer.initiator = true;
  peer.keepalive = settings.keepalive;
  peer.name = settings.server.host + ":" + std::to_string(settings.server.port);
  crypto::SessionConfig session;
  session.initiator = true;
  session.peer_public = settings.server_public;
  session.stream = !settings.udp;
  peer.session = session;
  return {.device = device,
          .transport = net,
          .log = log,
          .responder = nullptr,
          .identity = &identity,
          .peer = std::move(peer),
          .probe_backoff = make_backoff(),
          .clock = util::steady_clock()};
}
#pragma GCC diagnostic pop

util::Logger client_logger(const SwarmSettings& settings, const std::string& name) {
  return util::Logger(settings.log_level, [name](util::LogLevel level, std::string_view text) {
    util::print_stderr(level, name + ": " + std::string(text));
  });
}

SwarmDeviceConfig device_config(const SwarmSettings& settings, const ClientSpec& spec,
                                std::uint16_t index) {
  return {.name = spec.name,
          .ethernet = settings.tap,
          .address = spec.address,
          .prefix_len = spec.prefix_len,
          .mtu = settings.mtu,
          .echo_id = index};
}

}  // namespace

SwarmClient::SwarmClient(asio::io_context& io, const SwarmSettings& settings, ClientSpec spec,
                         std::uint16_t index)
    : spec_(std::move(spec)),
      log_(client_logger(settings, spec_.name)),
      device_(io, device_config(settings, spec_, index)),
      identity_(make_identity(settings, spec_)),
      transport_(make_transport(io, settings, spec_, log_)) {
  engine_ = std::make_unique<tunnel::Engine>(
      engine_parts(settings, device_, *transport_, log_, *identity_));
}

SwarmClient::~SwarmClient() {
  stop();
}

void SwarmClient::start() {
  engine_->start();
}

void SwarmClient::stop() {
  if (engine_) engine_->stop();
}

}  // namespace tund::swarm
