#include "tund/config/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "tund/config/checks.hpp"
#include "tund/config/config_file.hpp"

namespace tund::config {
namespace {

struct RawOptions {
  bool server = false, tun = false, tap = false, debug = false, no_offload = false;
  std::string connect, listen, transport = "tcp", config;
  unsigned keepalive = static_cast<unsigned>(proto::kDefaultKeepalive.count());
};

void define_options(CLI::App& app, Config& cfg, RawOptions& raw) {
  app.add_option("-i,--iface", cfg.iface, "TUN/TAP interface to create or attach to")
      ->required()
      ->type_name("IFNAME");
  auto* server = app.add_flag("-s,--server", raw.server, "run as server (listen for a client)");
  auto* client = app.add_option("-c,--connect", raw.connect, "run as client, connect to HOST")
                     ->type_name("HOST");
  server->excludes(client);
  app.add_option("-p,--port", cfg.port, "TCP/UDP port (default 55555)")
      ->check(CLI::Range(1, 65535))
      ->type_name("PORT");
  auto* tun = app.add_flag("-u,--tun", raw.tun, "TUN mode: carry IP packets (default)");
  auto* tap = app.add_flag("-a,--tap", raw.tap, "TAP mode: carry Ethernet frames");
  tun->excludes(tap);
  app.add_option("-t,--transport", raw.transport, "tcp (default) or udp")
      ->check(CLI::IsMember({"tcp", "udp"}))
      ->type_name("PROTO");
  app.add_option("--listen", raw.listen, "server: listen on this address only (default: all)")
      ->type_name("ADDR");
  app.add_option("--mtu", cfg.mtu, "device MTU (default 1400)")
      ->check(CLI::Range(proto::kMinMtu, proto::kMaxMtu))
      ->type_name("N");
  app.add_option("--keepalive", raw.keepalive, "UDP keepalive interval in seconds (default 10)")
      ->check(CLI::Range(1, 3600))
      ->type_name("SEC");
  app.add_flag("-d,--debug", raw.debug, "debug output: one line per frame");
  app.add_flag("--no-offload", raw.no_offload,
               "TUN: no segmentation/coalescing offloads (plain packet-at-a-time path)");
  app.add_option("--private-key", cfg.private_key_file,
                 "this side's private key file (turns encryption on)")
      ->type_name("FILE");
  app.add_option("--peer-key", cfg.peer_key, "client: the server's public key (base64 or file)")
      ->type_name("KEY|FILE");
  app.add_option("--allow", cfg.allow, "server: a client public key to accept (repeatable)")
      ->type_name("KEY|FILE");
  app.add_option("--allow-file", cfg.allow_files, "server: file of client public keys, one a line")
      ->type_name("FILE");
  app.add_option("--psk", cfg.psk_file, "preshared key file (tund genpsk), same on both sides")
      ->type_name("FILE");
  app.add_option("--max-pending", cfg.max_pending,
                 "encrypted TCP server: connections awaiting a handshake (default 16)")
      ->check(CLI::Range(1, 4096))
      ->type_name("N");
  app.add_option("--link-ip", cfg.link_ip,
                 "IPv4 address tund itself answers ARP and ping for on the tunnel link")
      ->type_name("ADDR");
  app.add_option("--link-mac", cfg.link_mac, "TAP: MAC for --link-ip (default: from the name)")
      ->type_name("MAC");
  app.add_option("--address", cfg.address, "assign ADDR/PREFIX to the device and bring it up")
      ->type_name("CIDR");
  app.add_option("--peer", cfg.peer, "with --address: the point-to-point peer address")
      ->type_name("ADDR");
  app.add_option("--up", cfg.up_command, "run CMD (sh -c) once the device is up")->type_name("CMD");
  app.add_option("--down", cfg.down_command, "run CMD (sh -c) at shutdown")->type_name("CMD");
  app.add_option("--user", cfg.user, "switch to USER once the device and socket are open")
      ->type_name("USER");
  app.add_option("--group", cfg.group, "switch to GROUP (default: USER's group)")
      ->type_name("GROUP");
  app.add_option("--config", raw.config, "read options from FILE (the command line wins)")
      ->type_name("FILE");
  app.set_version_flag("-V,--version", std::string("tund ") + kVersion);
}

// Encryption needs a complete set of keys, or none at all: a half-configured side would
// silently run in plaintext.
void check_encryption_options(const Config& cfg) {
  bool any_peer_keys = !cfg.peer_key.empty() || !cfg.allow.empty() || !cfg.allow_files.empty();
  if (!cfg.encrypted()) {
    if (any_peer_keys || !cfg.psk_file.empty())
      throw CLI::ValidationError(
          "--peer-key, --allow, --allow-file and --psk need --private-key (encryption)");
    return;
  }
  if (cfg.role == Role::client) {
    if (cfg.peer_key.empty())
      throw CLI::ValidationError("--private-key on a client needs --peer-key (the server's key)");
    if (!cfg.allow.empty() || !cfg.allow_files.empty())
      throw CLI::ValidationError("--allow and --allow-file are for the server (-s)");
  } else {
    if (!cfg.peer_key.empty())
      throw CLI::ValidationError("--peer-key is for the client; the server uses --allow");
    if (cfg.allow.empty() && cfg.allow_files.empty())
      throw CLI::ValidationError(
          "--private-key on a server needs --allow KEY or --allow-file FILE (who may connect)");
  }
}

void check(const std::string& option, const std::string& error) {
  if (!error.empty()) throw CLI::ValidationError(option + ": " + error);
}

// Values the kernel would refuse only after something was created (a device, a hook run).
void check_values(const Config& cfg) {
  check("--iface", interface_name_error(cfg.iface));
  if (!cfg.address.empty()) check("--address", cidr_error(cfg.address));
  if (!cfg.peer.empty()) {
    check("--peer", ipv4_error(cfg.peer));
    if (cfg.address.find(':') != std::string::npos)
      throw CLI::ValidationError("--peer is supported with an IPv4 --address only");
  }
  if (!cfg.link_ip.empty()) check("--link-ip", ipv4_error(cfg.link_ip));
}

// Checks that need more than one option, after CLI11's own.
void finish(Config& cfg, const RawOptions& raw) {
  if (!raw.server && raw.connect.empty())
    throw CLI::ValidationError("one of -s/--server or -c/--connect HOST is required");
  cfg.role = raw.server ? Role::server : Role::client;
  cfg.remote_host = raw.connect;
  if (!raw.listen.empty() && cfg.role == Role::client)
    throw CLI::ValidationError("--listen is for the server (-s)");
  cfg.listen = raw.listen;
  cfg.device = raw.tap ? DeviceKind::tap : DeviceKind::tun;
  cfg.transport = raw.transport == "udp" ? TransportKind::udp : TransportKind::tcp;
  cfg.keepalive = std::chrono::seconds(raw.keepalive);
  cfg.debug = raw.debug;
  cfg.offload = !raw.no_offload;
  check_encryption_options(cfg);
  if (!cfg.peer.empty() && cfg.address.empty())
    throw CLI::ValidationError("--peer goes with --address");
  if (!cfg.link_mac.empty() && cfg.device != DeviceKind::tap)
    throw CLI::ValidationError("--link-mac is for TAP mode (-a)");
  if (!cfg.group.empty() && cfg.user.empty())
    throw CLI::ValidationError("--group goes with --user");
  check_values(cfg);
}

// The options the config file may set: every long option (help/version aside).
std::vector<OptionSpec> option_specs(const CLI::App& app) {
  std::vector<OptionSpec> specs;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      if (name == "help" || name == "version") continue;
      specs.push_back({name, opt->get_expected_min() == 0});
    }
  }
  return specs;
}

// --config FILE anywhere on the command line: its options go first, so the command line
// (parsed after them, last value wins) overrides the file.
std::vector<std::string> with_config_file(const CLI::App& app,
                                          const std::vector<std::string>& args) {
  std::string path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
  }
  if (path.empty()) return args;
  std::ifstream in(path);
  if (!in) throw ConfigFileError("cannot read config file " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> all = config_to_args(text.str(), path, option_specs(app));
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

// CLI11 messages can span lines; the user gets one line.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

CliResult parse_command_line(const std::vector<std::string>& args) {
  CLI::App app{"tund: a TUN/TAP tunnel over TCP or UDP, simpletun-compatible", "tund"};
  app.footer(
      "Examples:\n  tund -s -i tun3                 server, TUN, TCP port 55555\n"
      "  tund -c 198.18.0.1 -i tun11     client\n"
      "  tund -s -i tap0 -a -t udp       server, TAP, UDP\n\n"
      "Keys (encryption is on when --private-key is given):\n"
      "  tund genkey > server.key        new private key (file mode 0600)\n"
      "  tund pubkey < server.key        its public key\n"
      "  tund genpsk > tunnel.psk        optional preshared key\n"
      "  tund -s -i tun3 --private-key server.key --allow CLIENT_PUBLIC_KEY\n"
      "  tund -c HOST -i tun3 --private-key client.key --peer-key SERVER_PUBLIC_KEY");
  Config cfg;
  RawOptions raw;
  define_options(app, cfg, raw);
  // A value given twice (config file, then command line) keeps the last one.
  for (CLI::Option* opt : app.get_options())
    if (opt->get_expected_max() == 1) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  try {
    std::vector<std::string> all = with_config_file(app, args);
    std::vector<std::string> reversed(all.rbegin(), all.rend());  // CLI11 consumes from the back
    app.parse(reversed);
    finish(cfg, raw);
  } catch (const CLI::CallForHelp&) {
    return CliExit{0, app.help()};
  } catch (const CLI::CallForVersion& v) {
    return CliExit{0, std::string(v.what()) + "\n"};
  } catch (const CLI::ParseError& e) {
    return CliExit{2, "tund: error: " + one_line(e.what()) + " (see tund --help)\n"};
  } catch (const ConfigFileError& e) {
    return CliExit{2, "tund: error: " + one_line(e.what()) + "\n"};
  }
  return cfg;
}

}  // namespace tund::config
