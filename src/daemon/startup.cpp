// Start-up, in the order that keeps the system clean: everything that can be refused
// (account, keys, option values, the server's name) is checked before the first side
// effect; then the device (undone by closing it), the socket, --up, the switch to --user.
#include <unistd.h>

#include <asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <variant>

#include "daemon_impl.hpp"
#include "tund/config/cli.hpp"
#include "tund/config/threads.hpp"
#include "tund/crypto/cipher_choice.hpp"
#include "tund/crypto/cipher_speed.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/daemon/hooks.hpp"
#include "tund/daemon/hub_peers.hpp"
#include "tund/device/netif.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/resolver.hpp"
#include "tund/transport/tcp_client.hpp"
#include "tund/transport/tcp_server.hpp"
#include "tund/transport/udp_transport.hpp"
#include "tund/tunnel/engine.hpp"
#include "tund/util/backoff.hpp"

namespace tund::daemon {
namespace {

using config::Config;

int start_error(const std::string& what) {
  util::print_error(what);
  return 1;
}

// What the configuration names is wrong (a key, an account): like every other
// configuration error, exit status 2; retrying cannot help. It names the config file line
// the value came from, or, from the command line, ends as the parser's errors do.
int config_error(const Config& cfg, const std::string& what) {
  std::string located = cfg.sources.locate(what);
  bool command_line = located == what && what.rfind("--", 0) == 0;
  util::print_error(command_line ? what + " (see tund --help)" : located);
  return 2;
}

// The option whose value the transport is built from, to name its config file line when
// listening or connecting fails at start.
std::string endpoint_option(const Config& cfg) {
  if (cfg.role == config::Role::client) return "connect";
  return cfg.sources.given("listen") ? "listen" : "port";
}

util::Backoff make_backoff() {
  return util::Backoff(proto::kBackoffInitial, proto::kBackoffCap, util::system_random());
}

// The option behind a failure of the step that uses `step_option`: opening the device
// also sets --mtu, configuring it also sets --peer; a message naming an option is its own.
std::string failing_option(const std::string& step_option, const std::string& message) {
  if (message.rfind("cannot set MTU", 0) == 0) return "mtu";
  if (message.rfind("cannot set the peer address", 0) == 0) return "peer";
  if (message.rfind("--", 0) == 0) return message.substr(2, message.find_first_of(": ") - 2);
  return step_option;
}

crypto::CipherPreference preference_of(config::Cipher cipher) {
  switch (cipher) {
    case config::Cipher::aes256gcm:
      return crypto::CipherPreference::aes256gcm;
    case config::Cipher::chacha20poly1305:
      return crypto::CipherPreference::chacha20poly1305;
    case config::Cipher::automatic:
      break;
  }
  return crypto::CipherPreference::automatic;
}

// --cipher on this CPU: what every handshake offers (crypto/cipher_choice.hpp). auto first
// measures both ciphers at the tunnel's frame size (about a millisecond) and logs it.
// Throws std::runtime_error naming --cipher for a cipher this CPU cannot run.
// TUND_TEST_CIPHER_SCORE: a whole number, or the start fails (a typo must not test score 0).
int test_cipher_score(const char* text) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < -1000 || value > 1000)
    throw std::runtime_error(std::string("TUND_TEST_CIPHER_SCORE: '") + text +
                             "' is not a whole number");
  return static_cast<int>(value);
}

crypto::CipherOffer cipher_offer(const Config& cfg, util::Logger& log) {
  bool aes = crypto::aes256gcm_available();
  crypto::CipherPreference preference = preference_of(cfg.cipher);
  int score = 0;
  if (preference == crypto::CipherPreference::automatic) {
    std::size_t frame = proto::max_frame_size(cfg.mtu.value_or(proto::kDefaultMtu),
                                              cfg.device == config::DeviceKind::tap);
    crypto::CipherSpeed speed = crypto::measure_cipher_speed(frame, aes, util::steady_clock());
    // For tests only: the score of another CPU, to watch two ends that measured differently.
    const char* test_score = std::getenv("TUND_TEST_CIPHER_SCORE");
    if (test_score && !*test_score) test_score = nullptr;
    if (test_score) speed.score = test_cipher_score(test_score);
    log.info("cipher speed: ", crypto::describe(speed),
             test_score ? " (TUND_TEST_CIPHER_SCORE)" : "");
    score = speed.score;
  }
  auto offer = crypto::make_offer(preference, aes, score);
  if (auto* error = std::get_if<std::string>(&offer)) throw std::runtime_error(*error);
  if (preference != crypto::CipherPreference::automatic)
    log.info("cipher: ", crypto::preference_name(preference), " (--cipher)");
  return std::get<crypto::CipherOffer>(offer);
}

std::unique_ptr<crypto::Identity> make_identity(const KeyMaterial& keys,
                                                crypto::CipherOffer offer) {
  crypto::IdentityConfig ic;
  ic.private_key = keys.private_key;
  ic.allowed = keys.allowed;
  ic.psk = keys.psk;
  ic.offer_aes = offer.aes;
  ic.cipher_score = offer.score;
  return std::make_unique<crypto::Identity>(std::move(ic));
}

crypto::SessionConfig session_config(const Config& cfg, const KeyMaterial& keys) {
  crypto::SessionConfig sc;
  sc.initiator = cfg.role == config::Role::client;
  sc.peer_public = keys.peer_public;
  sc.stream = cfg.transport == config::TransportKind::tcp;
  // For tests only: a short rekey interval to watch several rekeys in seconds.
  if (const char* rekey = std::getenv("TUND_TEST_REKEY_SECONDS")) {
    auto seconds = std::chrono::seconds(std::max(1, std::atoi(rekey)));
    sc.rekey_after_time = seconds;
    sc.reject_after_time = seconds + seconds / 2 + std::chrono::seconds(1);
  }
  return sc;
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

std::unique_ptr<transport::Transport> make_transport(asio::io_context& io, const Config& cfg,
                                                     const transport::RemoteServer& remote,
                                                     util::Logger& log,
                                                     util::LogLimiter& complaints) {
  bool server = cfg.role == config::Role::server;
  asio::ip::address listen = server ? transport::listen_address(cfg.listen) : asio::ip::address();
  if (cfg.transport == config::TransportKind::udp) {
    transport::UdpOptions options{server,          remote,      listen,     cfg.port,
                                  cfg.encrypted(), cfg.offload, &complaints};
    return std::make_unique<transport::UdpTransport>(io, options, log);
  }
  transport::TcpOptions options{cfg.encrypted(), cfg.max_pending, &complaints};
  if (server) return std::make_unique<transport::TcpServer>(io, listen, cfg.port, log, options);
  return std::make_unique<transport::TcpClient>(io, remote, log, make_backoff(), options);
}

// --address/--peer: tund configures the device itself (idempotent, like `ip addr replace`),
// every address in the order given. The link goes up first: the kernel adds an IPv6
// address's peer route (PEER/128) only when the link is up as the address is added.
void configure_device(const Config& cfg, const device::TunDevice& dev) {
  if (cfg.addresses.empty()) return;
  device::set_link_up(dev.name());
  for (const config::DeviceAddress& address : cfg.addresses)
    device::set_address(dev.name(), address.cidr, address.peer);
}

std::optional<link::Mac> link_mac_option(const Config& cfg) {
  if (cfg.link_mac.empty()) return std::nullopt;
  auto mac = link::parse_mac(cfg.link_mac);
  if (!mac) throw std::runtime_error("--link-mac: '" + cfg.link_mac + "' is not a unicast MAC");
  return mac;
}

std::unique_ptr<link::Responder> make_responder(const Config& cfg, const device::TunDevice& dev) {
  link::ResponderConfig rc;
  rc.ethernet = cfg.device == config::DeviceKind::tap;
  rc.tunnel_mtu = dev.mtu();
  // Both checked by the CLI (one address per family).
  if (!cfg.link_ip.empty()) rc.link_ip = link::parse_ipv4(cfg.link_ip);
  if (!cfg.link_ip6.empty()) rc.link_ip6 = link::parse_ipv6(cfg.link_ip6);
  rc.link_mac = link_mac_option(cfg).value_or(link::mac_from_name(dev.name()));
  return std::make_unique<link::Responder>(rc);
}

std::string describe(const Config& cfg, const device::TunDevice& dev) {
  return std::string(cfg.role == config::Role::server ? "server" : "client") + ", " +
         (cfg.device == config::DeviceKind::tap ? "TAP " : "TUN ") + dev.name() + " (mtu " +
         std::to_string(dev.mtu()) + (dev.was_persistent() ? ", persistent" : ", created") + "), " +
         (cfg.transport == config::TransportKind::udp ? "udp" : "tcp");
}

// Once the configuration is known to be usable: the options that do nothing here, and this
// side's public key, so that a swapped or wrong key file shows before any handshake fails.
void report_settings(util::Logger& log, const Config& cfg, const std::optional<KeyMaterial>& keys) {
  for (const std::string& warning : cfg.warnings) log.warn(warning);
  if (!keys) return;
  log.info("public key: ", crypto::to_base64(keys->public_key));
  for (const std::string& warning : key_warnings(cfg, *keys)) log.warn(warning);
}

}  // namespace

// The engine and its one peer, from the configuration and what start-up built.
tunnel::EngineParts Daemon::engine_parts() {
  tunnel::PeerConfig peer;
  peer.initiator = cfg_.role == config::Role::client;
  peer.keepalive = cfg_.keepalive;
  if (peer.initiator) peer.name = transport::server_name(cfg_.remote_host, cfg_.port);
  if (keys_) peer.session = session_config(cfg_, *keys_);
  std::optional<std::vector<tunnel::HubPeerSpec>> hub;
  if (cfg_.hub()) hub = hub_peers_;
  return {.device = *dev_,
          .transport = *net_,
          .log = log_,
          .responder = responder_.get(),
          .identity = identity_.get(),
          .peer = std::move(peer),
          .hub = std::move(hub),
          .probe_backoff = make_backoff(),
          .clock = util::steady_clock(),
          .wire_complaints = &wire_complaints_,
          .workers = workers_.get()};
}

// Plaintext has no cipher work to share: no threads then, whatever --threads says.
void Daemon::start_workers() {
  unsigned threads = config::effective_threads(cfg_.threads);
  if (!identity_ && cfg_.threads > 1)  // asked for explicitly: say it does nothing here
    log_.warn("--threads ", cfg_.threads,
              " does nothing without encryption (no cipher work to share); running on one");
  if (!identity_ || threads < 2) {
    log_.info("threads: 1", identity_ ? "" : " (plaintext: no cipher work to share)");
    return;
  }
  if (unsigned cpus = config::available_cpus(); threads > cpus)
    log_.warn("--threads ", threads, " is more than the ", cpus, cpus == 1 ? " CPU" : " CPUs",
              " this process may use: the threads will take turns on them");
  try {
    workers_ = std::make_unique<util::WorkerPool>(threads);
  } catch (const std::system_error& e) {  // out of threads (RLIMIT_NPROC, memory)
    log_.warn("could not start ", threads - 1, " worker threads (", e.what(),
              "); sealing and opening on one thread");
    return;
  }
  log_.info("threads: ", threads, " (sealing and opening batches of ",
            tunnel::kParallelBytes / 1024, " KB or more", cfg_.threads == 0 ? ", one per CPU" : "",
            ", while a CPU is free for them)");
  // Tests and benchmarks only: the TSan stage exercises the helpers whatever the load;
  // tests/bench/hub.sh measures what the gate saves.
  const char* share = std::getenv("TUND_TEST_WORKERS_SHARE");
  always_share_ = share && std::string_view(share) == "always";
  if (always_share_) log_.warn("TUND_TEST_WORKERS_SHARE=always: sharing even with no CPU free");
}

std::optional<int> Daemon::start() {
  if (auto status = check_before_start()) return status;
  report_settings(log_, cfg_, keys_);
  if (auto status = resolve_server()) return status;
  if (stop_pending()) return 0;
  if (auto status = build()) return status;
  if (auto status = start_control()) return status;
  if (auto status = start_metrics()) return status;
  if (stop_pending()) return 0;  // nothing ran yet; closing the device undoes it
  if (auto status = run_up_hook()) return status;
  return become_user();
}

// No side effect yet: every refusal here is one line; an account or key that is not
// what the configuration says is a configuration error (2), anything else 1.
std::optional<int> Daemon::check_before_start() {
  crypto::CipherOffer offer;
  try {
    if (cfg_.encrypted()) crypto::init_sodium();
  } catch (const std::exception& e) {
    return start_error(e.what());
  }
  try {
    if (!cfg_.user.empty()) account_ = lookup_account(cfg_.user, cfg_.group);
    if (cfg_.encrypted()) keys_ = load_keys(cfg_);
    if (cfg_.encrypted()) offer = cipher_offer(cfg_, log_);
    if (cfg_.hub()) load_hub_peers();
    // Before anything is made: the control socket's group must exist.
    if (!cfg_.control_group.empty()) control_group_id(cfg_.control_group, "--control-group: ");
  } catch (const std::exception& e) {
    return config_error(cfg_, e.what());
  }
  try {
    if (keys_) {
      identity_ = make_identity(*keys_, offer);
      if (keys_->peer_public) crypto::check_public_key(*keys_->peer_public, "--peer-key");
    }
    link_mac_option(cfg_);  // both checked by the parser already: kept as a guard
    if (cfg_.role == config::Role::server) transport::listen_address(cfg_.listen);
  } catch (const std::exception& e) {
    return start_error(e.what());
  }
  return std::nullopt;
}

// Hub mode: the peers directory's keys are the allowed client keys.
void Daemon::load_hub_peers() {
  hub_peers_ = hub_peer_specs(cfg_);
  keys_->allowed.clear();
  for (const auto& peer : hub_peers_) keys_->allowed.push_back(peer.public_key);
}

// The lookup runs while signals are handled. A name that does not exist is a start-up
// error; a lookup that cannot be answered now (no DNS reachable yet: boot, Wi-Fi) is not:
// the client tries again at each connection attempt.
std::optional<int> Daemon::resolve_server() {
  if (cfg_.role == config::Role::server) return std::nullopt;
  remote_ = {cfg_.remote_host, cfg_.port, {}};
  transport::Resolver resolver(io_);
  // A lookup can take many seconds (an unreachable DNS server): after one, say what tund
  // waits for (an answer within it keeps a start-up error to its one line).
  asio::steady_timer slow(io_, std::chrono::seconds(1));
  slow.async_wait([this](std::error_code ec) {
    if (!ec) log_.info("still looking up ", cfg_.remote_host, " (waiting for the resolver)");
  });
  bool done = false;
  std::error_code error;
  resolver.resolve(cfg_.remote_host, cfg_.port, [&](std::error_code ec, auto addresses) {
    done = true;
    error = ec;
    remote_.addresses = std::move(addresses);
  });
  bool answered = pump_until([&] { return done; });
  slow.cancel();
  if (!answered) return 0;
  if (!error) return std::nullopt;
  if (transport::is_permanent_lookup_error(error))
    return start_error(cfg_.sources.prefix("connect") + "cannot resolve host '" + cfg_.remote_host +
                       "': " + error.message());
  log_.warn("cannot resolve host '", cfg_.remote_host, "' now (", error.message(),
            "); starting anyway, trying again at each connection attempt");
  return std::nullopt;
}

// A failure names the config file line of the value the failing step used ("FILE line
// N: "), as a parse error would.
std::optional<int> Daemon::build() {
  std::string option = "iface";
  try {
    dev_ = open_device(io_, cfg_);
    option = "address";
    configure_device(cfg_, *dev_);
    if (cfg_.hub()) sync_routes(cfg_, hub_peers_);
    option = "link-mac";
    responder_ = make_responder(cfg_, *dev_);
    option = endpoint_option(cfg_);
    net_ = make_transport(io_, cfg_, remote_, log_, wire_complaints_);
  } catch (const std::exception& e) {
    return start_error(cfg_.sources.prefix(failing_option(option, e.what())) + e.what());
  }
  log_.info("tund ", config::kVersion, " starting: ", describe(cfg_, *dev_));
  log_.info(dev_->offload_status());
  start_workers();
  if (cfg_.hub())
    log_.info("hub: ", hub_peers_.size(), " peers from ", cfg_.peers_dir, " (",
              cfg_.peers.size() - hub_peers_.size(), " disabled)");
  if (identity_) reloader_.attach(identity_.get(), *keys_);
  return std::nullopt;
}

// From here on --down runs at the end, whatever happens: --up may have changed the system
// even if it failed or was stopped half-way.
std::optional<int> Daemon::run_up_hook() {
  device_set_up_ = true;
  if (cfg_.up_command.empty()) return std::nullopt;
  HookLimits limits;
  limits.interrupted = [this] { return signals_.stop_requested(); };
  int status = run_hook(io_, "up", cfg_.up_command,
                        hook_environment({&cfg_, dev_->name(), dev_->mtu()}), log_, limits);
  if (status == kHookInterrupted) {
    run_down_hook();
    return 0;
  }
  if (status == 0) return std::nullopt;
  util::print_error(cfg_.sources.prefix("up") + "the --up hook failed (status " +
                    std::to_string(status) + "); not starting");
  run_down_hook();
  return 1;
}

// The control socket: after the device exists, before --user (so it is root's). At a path
// given explicitly, failing is a start-up error; at the default path only a warning, as
// the tunnel matters more than `tund show`.
// Two tunds with one interface name in different network namespaces share /run.
constexpr const char* kInUseHint =
    " (a tund with this interface name runs in another network namespace? give each "
    "--control-socket PATH)";

std::optional<int> Daemon::start_control() {
  ControlOptions options;
  options.path =
      cfg_.control_socket.empty() ? default_control_socket(dev_->name()) : cfg_.control_socket;
  options.group = cfg_.control_group;
  options.own_uid = account_ ? account_->uid : ::getuid();
  control_ = std::make_unique<ControlServer>(io_, log_, options, control_handlers());
  bool given = !cfg_.control_socket.empty();
  try {
    control_->start();
    log_.info("control socket ", control_->path(), " (tund show ", dev_->name(),
              given ? " --control-socket " + options.path : std::string(), ")");
  } catch (const ControlSocketInUse& e) {
    // A tunnel nobody can show, reload or disconnect is worse than one that did not start.
    control_.reset();
    std::string why = e.what();
    if (!given) why += kInUseHint;
    return start_error(why);
  } catch (const std::exception& e) {
    control_.reset();
    if (given) return start_error(e.what());
    log_.warn(e.what(), "; running without it (tund show cannot reach this tund)");
  }
  return std::nullopt;
}

// Before --user, so a port below 1024 can be bound; its threads answer from then on, each
// scrape asking the event loop for a status (never touching the engine themselves).
std::optional<int> Daemon::start_metrics() {
  if (cfg_.metrics_port == 0) return std::nullopt;
  metrics_ = std::make_unique<MetricsServer>(cfg_.metrics_host, cfg_.metrics_port, [this] {
    return status_from_any_thread(std::chrono::milliseconds(2000));
  });
  try {
    metrics_->start();
  } catch (const std::exception& e) {
    metrics_.reset();
    return start_error(e.what());
  }
  bool v6 = cfg_.metrics_host.find(':') != std::string::npos;
  log_.info("metrics on http://", v6 ? "[" : "", cfg_.metrics_host, v6 ? "]" : "", ":",
            cfg_.metrics_port, "/metrics");
  return std::nullopt;
}

ControlHandlers Daemon::control_handlers() {
  ControlHandlers handlers;
  handlers.show = [this] { return status(); };
  handlers.reload = [this] { return reload("control socket: reload"); };
  handlers.disconnect = [this](const std::string& peer) { return disconnect(peer); };
  return handlers;
}

std::string Daemon::disconnect(const std::string& peer) {
  if (!engine_ || engine_stopped_) throw std::runtime_error("tund is not running its tunnel now");
  auto result = engine_->disconnect(peer);
  if (!result) throw std::runtime_error("no peer '" + peer + "'");
  if (!result.was_connected)
    throw std::runtime_error(result.name + " is not connected (nothing to disconnect)");
  log_.info("control socket: disconnected ", result.name);
  std::string done = "disconnected ";
  done += result.name;
  return done;
}

std::optional<int> Daemon::become_user() {
  if (!account_) return std::nullopt;
  try {
    drop_privileges(*account_);
  } catch (const std::exception& e) {
    log_.error(e.what());
    run_down_hook();
    return 1;
  }
  log_.info("running as user ", account_->user, " (keeping CAP_NET_ADMIN only)");
  return std::nullopt;
}

// Delivers a stop signal that arrived during a step that did not run the loop.
bool Daemon::stop_pending() {
  if (io_.stopped()) io_.restart();
  io_.poll();
  return signals_.stop_requested();
}

}  // namespace tund::daemon
