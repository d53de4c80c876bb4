// The command line and the config file, combined: the command line is parsed alone first
// (its errors keep their plain form), then each config file value alone (its errors name
// the file and line), then the file's options the command line does not override followed
// by the command line, into one Config whose origins are kept for every later message.
#include "tund/config/cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <set>

#include "addresses.hpp"
#include "tund/config/checks.hpp"
#include "tund/config/config_file.hpp"
#include "tund/config/peer_files.hpp"

namespace tund::config {

// An error about `option`: from the config file it names the line; from the command line
// it keeps the plain form (followed by "see tund --help").
[[noreturn]] void fail(const Sources& sources, const std::string& option,
                       const std::string& message, std::size_t index) {
  std::string at = sources.prefix(option, index);
  if (at.empty()) throw CLI::ValidationError(message);
  throw ConfigFileError(at + message);
}

void check(const Sources& sources, const std::string& option, const std::string& error,
           std::size_t index) {
  if (!error.empty()) fail(sources, option, "--" + option + ": " + error, index);
}

namespace {

struct RawOptions {
  bool server = false, tun = false, tap = false, debug = false, no_offload = false;
  std::string connect, listen, transport = "tcp", config, routes = "auto", metrics_listen;
  std::string cipher = "auto";
  AddressOptions addressing;  // --address, --peer, --link-ip (addresses.hpp)
  unsigned keepalive = static_cast<unsigned>(proto::kDefaultKeepalive.count());
};

const char* const kUsage =
    "tund -s -i IFNAME [OPTIONS]                   server\n"
    "       tund -c HOST[:PORT] -i IFNAME [OPTIONS]       client\n"
    "       tund --config FILE [OPTIONS]                  options from FILE too\n"
    "       tund genkey|genpsk > KEY_FILE                 a new private key / preshared key\n"
    "       tund pubkey < PRIVATE_KEY_FILE                its public key\n"
    "       tund show [IFNAME] [--json|--dump|--prometheus]  a running tund's status\n"
    "       tund reload IFNAME | tund disconnect IFNAME PEER  control a running tund\n";

// "Usage:" in --help shows the modes and the key commands, not only [OPTIONS].
class Formatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override {
    return std::string("Usage: ") + kUsage;
  }
};

// CLI11's Range says "Value x not in range" for a word; this says what is wrong with it.
// `words` names other values the option takes, for the message ("auto or ").
CLI::Validator number_in(long min, long max, const std::string& words = "") {
  std::string range = words + std::to_string(min) + "-" + std::to_string(max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
        if (text.empty()) return "an empty value (" + range + ")";
        if (!digits) return "'" + text + "' is not a number (" + range + ")";
        // Leading zeros do not count; more than 9 digits left is out of any range here.
        std::string significant = text.substr(std::min(text.find_first_not_of('0'), text.size()));
        long n = significant.size() > 9 ? max + 1 : std::strtol(text.c_str(), nullptr, 10);
        if (n < min || n > max) return text + " is out of range (" + range + ")";
        text = std::to_string(n);  // CLI11 would read "010" as octal 8
        return "";
      },
      "");
}

// --threads: `auto` (stored as 0: resolved at start, threads.hpp) or 1-kMaxThreads. "0" is
// not taken for auto: a count of 0 threads reads as a mistake, not as "one per CPU".
CLI::Validator threads_value() {
  CLI::Validator number = number_in(1, kMaxThreads, "auto or ");
  return CLI::Validator(
      [number](std::string& text) -> std::string {
        if (text != "auto") return number(text);
        text = "0";
        return "";
      },
      "");
}

// CLI11's IsMember says "--transport:  not in {tcp,udp}" for an empty value.
CLI::Validator one_of(std::vector<std::string> words) {
  std::string list;
  for (const std::string& w : words) list += (list.empty() ? "" : " or ") + w;
  return CLI::Validator(
      [words, list](std::string& text) -> std::string {
        if (std::find(words.begin(), words.end(), text) != words.end()) return "";
        return (text.empty() ? std::string("an empty value") : "'" + text + "'") + " (expected " +
               list + ")";
      },
      "");
}

void define_mode_options(CLI::App& app, Config& cfg, RawOptions& raw) {
  app.add_option("-i,--iface", cfg.iface, "TUN/TAP interface to create or attach to")
      ->type_name("IFNAME");
  // -s/-c and -u/-a exclude each other by their final values (check_exclusive), not by
  // CLI11's excludes(), which `--tap=false` would trigger.
  app.add_flag("-s,--server", raw.server, "run as server (listen for a client)");
  app.add_option("-c,--connect", raw.connect,
                 "run as client, connect to HOST (HOST:PORT, [IPv6]:PORT too)")
      ->type_name("HOST");
  app.add_option("-p,--port", cfg.port, "TCP/UDP port (default 55555)")
      ->transform(number_in(1, 65535))
      ->type_name("PORT");
  app.add_flag("-u,--tun", raw.tun, "TUN mode: carry IP packets (default)");
  app.add_flag("-a,--tap", raw.tap, "TAP mode: carry Ethernet frames");
  app.add_option("-t,--transport", raw.transport, "tcp (default) or udp")
      ->check(one_of({"tcp", "udp"}))
      ->type_name("PROTO");
  app.add_option("--listen", raw.listen,
                 "server: listen on this address only (ADDR:PORT too; default: all)")
      ->type_name("ADDR");
  app.add_option("--mtu", cfg.mtu, "device MTU (default 1400)")
      ->transform(number_in(proto::kMinMtu, proto::kMaxMtu))
      ->type_name("N");
  app.add_option("--keepalive", raw.keepalive, "UDP keepalive interval in seconds (default 10)")
      ->transform(number_in(1, 3600))
      ->type_name("SEC");
  app.add_flag("-d,--debug", raw.debug, "debug output: one line per frame");
  app.add_flag("--no-offload", raw.no_offload,
               "TUN: no segmentation/coalescing offloads (plain packet-at-a-time path)");
  app.add_option("--threads", cfg.threads,
                 "threads for sealing/opening frames: auto (default: one per CPU this process may "
                 "use) or 1-" +
                     std::to_string(kMaxThreads))
      ->transform(threads_value())
      ->type_name("N");
}

void define_key_options(CLI::App& app, Config& cfg, RawOptions& raw) {
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
  app.add_option("--cipher", raw.cipher,
                 "data cipher: auto (default: the faster one, measured at start), aes-256-gcm or "
                 "chacha20-poly1305")
      ->check(one_of({"auto", "aes-256-gcm", "chacha20-poly1305"}))
      ->type_name("CIPHER");
  app.add_option("--max-pending", cfg.max_pending,
                 "encrypted TCP server: connections awaiting a handshake (default 16)")
      ->transform(number_in(1, 4096))
      ->type_name("N");
}

// Hub mode (tund.conf(5) PEER FILES): a server with many clients, each known by its key.
void define_hub_options(CLI::App& app, Config& cfg, RawOptions& raw) {
  app.add_option("--peers-dir", cfg.peers_dir,
                 "server: hub mode, one peer file per client in DIR (needs --private-key)")
      ->type_name("DIR");
  app.add_option("--max-peers", cfg.max_peers, "hub: most enabled peer files (default 1024)")
      ->transform(number_in(1, kMaxMaxPeers))
      ->type_name("N");
  app.add_option("--routes", raw.routes,
                 "hub: auto (default; routes to peers' allowed-ips outside --address) or off")
      ->check(one_of({"auto", "off"}))
      ->type_name("MODE");
}

void define_address_options(CLI::App& app, Config& cfg, RawOptions& raw) {
  app.add_option("--link-ip", raw.addressing.link_ips,
                 "address tund itself answers ping (and ARP/NDP) for on the tunnel link "
                 "(one IPv4, one IPv6)")
      ->type_name("ADDR");
  app.add_option("--link-mac", cfg.link_mac, "TAP: MAC for --link-ip (default: from the name)")
      ->type_name("MAC");
  app.add_option("--address", raw.addressing.addresses,
                 "assign ADDR/PREFIX to the device and bring it up (repeatable, IPv4/IPv6)")
      ->type_name("CIDR");
  app.add_option("--peer", raw.addressing.peers,
                 "point-to-point peer of the first --address of its family (one per family)")
      ->type_name("ADDR");
}

void define_system_options(CLI::App& app, Config& cfg, RawOptions& raw) {
  app.add_option("--up", cfg.up_command, "run CMD (sh -c) once the device is up")->type_name("CMD");
  app.add_option("--down", cfg.down_command, "run CMD (sh -c) at shutdown")->type_name("CMD");
  app.add_option("--user", cfg.user, "switch to USER once the device and socket are open")
      ->type_name("USER");
  app.add_option("--group", cfg.group, "switch to GROUP (default: USER's group)")
      ->type_name("GROUP");
  app.add_option("--control-socket", cfg.control_socket,
                 "the control socket for tund show (default /run/tund/IFNAME.sock)")
      ->type_name("PATH");
  app.add_option("--control-group", cfg.control_group,
                 "this group may use the control socket too (show; default: root only)")
      ->type_name("GROUP");
  app.add_option("--metrics-listen", raw.metrics_listen,
                 "serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9586; default off)")
      ->type_name("ADDR:PORT");
  app.add_option("--config", raw.config,
                 "read options from FILE, name = value a line (the command line wins)")
      ->type_name("FILE");
}

void define_options(CLI::App& app, Config& cfg, RawOptions& raw) {
  app.formatter(std::make_shared<Formatter>());
  define_mode_options(app, cfg, raw);
  define_key_options(app, cfg, raw);
  define_hub_options(app, cfg, raw);
  define_address_options(app, cfg, raw);
  define_system_options(app, cfg, raw);
  app.set_version_flag("-V,--version", std::string("tund ") + kVersion);
  // A value given twice keeps the last one.
  for (CLI::Option* opt : app.get_options())
    if (opt->get_expected_max() == 1) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

const std::set<std::string> kPaths = {"private-key", "psk", "allow-file", "peers-dir",
                                      "control-socket"};
const std::set<std::string> kKeysOrPaths = {"peer-key", "allow"};
const std::set<std::string> kRepeatable = {"allow", "allow-file"};
// Options that may repeat too, but whose command-line values replace the file's (a new
// set of addresses, not more of them).
const std::set<std::string> kLists = {"address", "peer", "link-ip"};
// Options that exclude each other: one given on the command line drops the file's choice.
const std::vector<std::set<std::string>> kExclusive = {{"server", "connect"}, {"tun", "tap"}};

// The options a config file may set: every long option (help/version aside).
std::vector<OptionSpec> option_specs(const CLI::App& app) {
  std::vector<OptionSpec> specs;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      if (name == "help" || name == "version") continue;
      auto kind = opt->get_expected_min() == 0 ? OptionSpec::Kind::flag
                  : kPaths.count(name)         ? OptionSpec::Kind::path
                  : kKeysOrPaths.count(name)   ? OptionSpec::Kind::key_or_path
                                               : OptionSpec::Kind::value;
      char letter = opt->get_snames().empty() ? 0 : opt->get_snames()[0][0];
      specs.push_back({name, kind, letter});
    }
  }
  return specs;
}

// `--debug=2` or `--tap=enable`: CLI11 takes many words for a flag, the config file only
// true/yes/on/1 and false/no/off/0; the command line takes the same as the file.
void check_flag_values(const CLI::App& app, const std::vector<std::string>& args) {
  static const std::set<std::string> kWords = {"true", "yes", "on", "1", "false", "no", "off", "0"};
  for (const std::string& arg : args) {
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) continue;
    const CLI::Option* opt = app.get_option_no_throw(arg.substr(0, eq));
    std::string value = arg.substr(eq + 1), lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (opt && opt->get_expected_min() == 0 && !kWords.count(lower))
      throw CLI::ValidationError(arg.substr(0, eq) + ": expected true or false, got '" + value +
                                 "'");
  }
}

// CLI11 takes "-i" in `-c -i tun0` as the host; an option that needs a value followed by
// another option is given no value.
void check_missing_values(const CLI::App& app, const std::vector<std::string>& args) {
  auto option_at = [&](const std::string& token) -> const CLI::Option* {
    if (token.rfind("--", 0) == 0) return app.get_option_no_throw(token.substr(0, token.find('=')));
    if (token.size() >= 2 && token[0] == '-' && std::isalpha(static_cast<unsigned char>(token[1])))
      return app.get_option_no_throw(token.substr(0, 2));
    return nullptr;
  };
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const CLI::Option* opt = option_at(args[i]);
    bool separate_value = args[i].find('=') == std::string::npos &&
                          (args[i].rfind("--", 0) == 0 || args[i].size() == 2);
    if (opt && opt->get_expected_min() > 0 && separate_value && option_at(args[i + 1]))
      throw CLI::ArgumentMismatch(opt->get_name() + ": 1 required " + opt->get_type_name() +
                                  " missing");
  }
}

void parse_args(CLI::App& app, const std::vector<std::string>& args) {
  app.clear();
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  app.parse(reversed);
}

// "a HOST", "an IFNAME", "a USER" (a word: by its first vowel), "an N" (a letter, said "en").
std::string with_article(const std::string& type) {
  const char* vowel_sounds = type.size() == 1 ? "AEFHILMNORSX" : "AEIO";
  bool vowel = !type.empty() && std::strchr(vowel_sounds, type[0]) != nullptr;
  return (vowel ? "an " : "a ") + type;
}

// The user gets one line: a control character inside a value (a newline from a script's
// variable) is shown escaped, so that it is visible rather than a space or a line break.
std::string one_line(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

std::string where(const std::string& path, int line) {
  return path + " line " + std::to_string(line) + ": ";
}

// Each value of the file parsed alone, so that CLI11's own checks (a port out of range, an
// unknown transport) name the line it is on.
void check_file_values(const std::vector<FileOption>& entries, const std::string& path) {
  Config scratch;
  RawOptions raw;
  CLI::App app;
  define_options(app, scratch, raw);
  for (const FileOption& e : entries) {
    try {
      parse_args(app, to_args({e}));
    } catch (const CLI::ParseError& error) {
      throw ConfigFileError(where(path, e.line) + one_line(error.what()));
    }
  }
}

// server and connect (or tun and tap) both set in the file; or a setting given twice.
std::vector<std::string> check_file_conflicts(const std::vector<FileOption>& entries,
                                              const std::string& path) {
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const FileOption &a = entries[j], &b = entries[i];
      bool exclusive = std::any_of(kExclusive.begin(), kExclusive.end(), [&](const auto& group) {
        return a.name != b.name && group.count(a.name) && group.count(b.name);
      });
      if (exclusive)
        throw ConfigFileError(where(path, b.line) + "'" + b.name + "' conflicts with '" + a.name +
                              "' on line " + std::to_string(a.line) + " (one of them)");
      if (a.name == b.name && !kRepeatable.count(a.name) && !kLists.count(a.name))
        warnings.push_back(where(path, b.line) + "'" + b.name + "' is set again; line " +
                           std::to_string(a.line) + "'s value is ignored");
    }
  }
  return warnings;
}

std::set<std::string> given_names(const CLI::App& app) {
  std::set<std::string> names;
  for (const CLI::Option* opt : app.get_options())
    if (opt->count() > 0)
      for (const std::string& name : opt->get_lnames()) names.insert(name);
  return names;
}

// The exclusive options the command line turns on: `--tap=false` names --tap but picks
// nothing, so the file's `tun` stays (and its own `tap` goes: the same name).
std::set<std::string> chosen_on_command_line(const RawOptions& raw) {
  std::set<std::string> chosen;
  if (raw.server) chosen.insert("server");
  if (!raw.connect.empty()) chosen.insert("connect");
  if (raw.tun) chosen.insert("tun");
  if (raw.tap) chosen.insert("tap");
  return chosen;
}

// The command line wins: the file's value of an option it gives (or of one excluding an
// option it turns on, the mode included) is dropped; so are all the file's values of a
// list (address, peer, link-ip). Repeatable options add to the file's.
bool overridden(const FileOption& e, const std::set<std::string>& command_line,
                const std::set<std::string>& chosen) {
  if (kRepeatable.count(e.name)) return false;
  if (command_line.count(e.name)) return true;
  // A peer pairs with an address: new addresses on the command line drop the file's peers.
  if (e.name == "peer" && command_line.count("address")) return true;
  return std::any_of(kExclusive.begin(), kExclusive.end(), [&](const auto& group) {
    return group.count(e.name) && std::any_of(group.begin(), group.end(),
                                              [&](const auto& n) { return chosen.count(n) != 0; });
  });
}

Sources sources_of(const std::vector<FileOption>& kept, const std::string& path,
                   const CLI::App& command_line) {
  Sources sources;
  for (const FileOption& e : kept) sources.by_option[e.name].push_back({path, e.line});
  for (const CLI::Option* opt : command_line.get_options())
    for (const std::string& name : opt->get_lnames())
      for (std::size_t i = 0; i < opt->count(); ++i) sources.by_option[name].push_back({});
  return sources;
}

// Encryption needs a complete set of keys, or none at all: a half-configured side would
// silently run in plaintext.
void check_encryption_options(const Config& cfg) {
  const Sources& s = cfg.sources;
  if (!cfg.encrypted()) {
    for (const char* option : {"peer-key", "allow", "allow-file", "psk"})
      if (s.given(option))
        fail(s, option,
             "--peer-key, --allow, --allow-file and --psk need --private-key (encryption)", 0);
    if (s.given("cipher"))
      fail(s, "cipher", "--cipher needs --private-key (it picks the encryption's cipher)");
    return;
  }
  if (cfg.role == Role::client) {
    if (cfg.peer_key.empty())
      fail(s, "private-key", "--private-key on a client needs --peer-key (the server's key)");
    for (const char* option : {"allow", "allow-file"})
      if (s.given(option)) fail(s, option, "--allow and --allow-file are for the server (-s)", 0);
  } else {
    if (!cfg.peer_key.empty())
      fail(s, "peer-key", "--peer-key is for the client; the server uses --allow");
    if (cfg.allow.empty() && cfg.allow_files.empty() && !cfg.hub())
      fail(s, "private-key",
           "--private-key on a server needs --allow KEY or --allow-file FILE (who may connect)");
  }
}

// Hub mode: a server that knows each client by its key, from the peer files alone.
void check_hub_options(const Config& cfg) {
  const Sources& s = cfg.sources;
  if (!cfg.hub()) return;
  if (cfg.role == Role::client) fail(s, "peers-dir", "--peers-dir is for the server (-s)");
  if (!cfg.encrypted())
    fail(s, "peers-dir",
         "--peers-dir needs --private-key: in hub mode each peer is known by its key");
  for (std::string option : {"allow", "allow-file"})
    if (s.given(option))
      fail(s, option,
           "--" + option +
               " and --peers-dir exclude each other: a hub's clients are its peer files "
               "(pick one)",
           0);
}

// A peer's keepalive is the UDP keepalive interval, like --keepalive: one warning for all.
std::vector<std::string> idle_peer_keys(const Config& cfg) {
  auto has = [](const PeerSpec& p) { return p.keepalive.has_value(); };
  auto first = std::find_if(cfg.peers.begin(), cfg.peers.end(), has);
  if (cfg.transport != TransportKind::tcp || first == cfg.peers.end()) return {};
  auto others = std::count_if(cfg.peers.begin(), cfg.peers.end(), has) - 1;
  return {first->file + " line " + std::to_string(first->lines.at("keepalive")) +
          ": keepalive does nothing over TCP (it is the UDP keepalive interval)" +
          (others ? " (nor in " + std::to_string(others) + " other peer files)" : "")};
}

// The peers directory, read once every option is known to be valid: its errors name the
// peer file and line, or (about the directory) the line of `peers-dir`.
void take_peers(Config& cfg) {
  if (!cfg.hub()) return;
  try {
    PeersDir dir = read_peers_dir(cfg.peers_dir, cfg.max_peers);
    cfg.peers = std::move(dir.peers);
    for (const auto& list : {dir.warnings, idle_peer_keys(cfg)})
      cfg.warnings.insert(cfg.warnings.end(), list.begin(), list.end());
  } catch (const ConfigFileError& error) {
    std::string message = error.what();
    if (message.rfind("--peers-dir: ", 0) == 0) fail(cfg.sources, "peers-dir", message);
    throw;
  }
}

// --peer-key/--allow KEY|FILE: a mistyped key (a character lost in copying) is taken for a
// file name; say it is neither.
std::string key_or_file_error(const std::string& value) {
  std::string error = file_error(value, "public key file");
  bool base64ish =
      value.size() >= 40 && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
      });
  if (error.empty() || !base64ish || access(value.c_str(), F_OK) == 0) return error;
  return "'" + value + "' is neither a base64 key (44 characters ending in '=') nor a file";
}

// Every file an option names, before anything starts: "is a directory" rather than a key
// error or a chmod hint later.
void check_files(const Config& cfg) {
  const Sources& s = cfg.sources;
  if (!cfg.private_key_file.empty())
    check(s, "private-key", file_error(cfg.private_key_file, "key file"));
  if (!cfg.psk_file.empty()) check(s, "psk", file_error(cfg.psk_file, "key file"));
  for (std::size_t i = 0; i < cfg.allow_files.size(); ++i)
    check(s, "allow-file", file_error(cfg.allow_files[i], "allow file"), i);
  if (!cfg.peer_key.empty() && !looks_like_key(cfg.peer_key))
    check(s, "peer-key", key_or_file_error(cfg.peer_key));
  for (std::size_t i = 0; i < cfg.allow.size(); ++i)
    if (!looks_like_key(cfg.allow[i])) check(s, "allow", key_or_file_error(cfg.allow[i]), i);
}

// Values the kernel would refuse only after something was created (a device, a hook run).
void check_values(Config& cfg, const RawOptions& raw) {
  const Sources& s = cfg.sources;
  check(s, "iface", interface_name_error(cfg.iface));
  take_addresses(cfg, raw.addressing);
  if (!cfg.link_mac.empty()) {
    check(s, "link-mac", mac_error(cfg.link_mac));
    check(s, "link-mac", mac_zero_error(cfg.link_mac));
  }
  check_files(cfg);
}

// -c HOST:PORT or --listen ADDR:PORT names the port -p sets: two different ports from the
// same place are a conflict; from the file and the command line, the command line wins.
void take_port(Config& cfg, const std::string& option, const std::string& value,
               std::uint16_t port) {
  const Sources& s = cfg.sources;
  bool same_place = s.from_command_line("port") == s.from_command_line(option);
  if (s.given("port") && same_place && cfg.port != port)
    fail(s, option,
         "--" + option + ": '" + value + "' names port " + std::to_string(port) +
             ", but --port is " + std::to_string(cfg.port) + " (give one of them)");
  if (s.given("port") && !same_place && s.from_command_line("port")) return;
  cfg.port = port;
}

// A server listens on one of its own unicast addresses, or on all (0.0.0.0, ::).
std::string listen_address_error(const std::string& host) {
  std::string error = special_address_error(host, false);
  if (error.empty() || host == "0.0.0.0" || host.find_first_not_of(":0") == std::string::npos)
    return "";
  return "'" + host + "' is not a local unicast address to listen on";
}

void take_endpoint(Config& cfg, const RawOptions& raw) {
  bool server = cfg.role == Role::server;
  std::string option = server ? "listen" : "connect";
  const std::string& value = server ? raw.listen : raw.connect;
  if (server && value.empty()) return;
  HostPort hp;
  check(cfg.sources, option, host_port_error(value, hp));
  check(cfg.sources, option, server ? ip_error(hp.host) : host_error(hp.host));
  if (server) check(cfg.sources, option, listen_address_error(hp.host));
  if (hp.port) take_port(cfg, option, value, *hp.port);
  (server ? cfg.listen : cfg.remote_host) = hp.host;
}

// --metrics-listen ADDR:PORT: an address of this host and a port, both required.
void take_metrics_listen(Config& cfg, const RawOptions& raw) {
  if (raw.metrics_listen.empty()) return;
  HostPort hp;
  check(cfg.sources, "metrics-listen", host_port_error(raw.metrics_listen, hp));
  if (!hp.port)
    fail(cfg.sources, "metrics-listen",
         "--metrics-listen: '" + raw.metrics_listen +
             "' has no port (give ADDR:PORT, e.g. 127.0.0.1:9586)");
  check(cfg.sources, "metrics-listen", ip_error(hp.host));
  check(cfg.sources, "metrics-listen", listen_address_error(hp.host));
  cfg.metrics_host = hp.host;
  cfg.metrics_port = *hp.port;
  bool loopback = hp.host == "::1" || hp.host.rfind("127.", 0) == 0;
  if (!loopback)
    cfg.warnings.push_back(cfg.sources.prefix("metrics-listen") + "--metrics-listen " +
                           raw.metrics_listen +
                           ": the metrics have no authentication and show peers' keys and "
                           "endpoints to anyone who reaches this address (prefer 127.0.0.1 "
                           "and a firewall rule for the scraper)");
}

// Options that are accepted but change nothing in this combination: one warning each.
std::vector<std::string> idle_options(const Config& cfg) {
  const Sources& s = cfg.sources;
  std::vector<std::string> warnings;
  auto warn = [&](const char* option, const std::string& why) {
    if (s.given(option)) warnings.push_back(s.prefix(option) + "--" + option + " " + why);
  };
  bool tcp = cfg.transport == TransportKind::tcp;
  if (tcp) warn("keepalive", "does nothing over TCP (it is the UDP keepalive interval)");
  for (const char* option : {"max-peers", "routes"})
    if (!cfg.hub()) warn(option, "does nothing without --peers-dir (it is a hub mode option)");
  if (!(tcp && cfg.role == Role::server && cfg.encrypted()))
    warn("max-pending",
         "does nothing here (it limits an encrypted TCP server's connections "
         "awaiting a handshake)");
  if (tcp && cfg.device == DeviceKind::tap)
    warn("no-offload", "does nothing with TAP over TCP (a TAP device has no offloads)");
  return warnings;
}

// The final values, not the options named: `-u --tap=false` is TUN.
void check_exclusive(const RawOptions& raw) {
  if (raw.server && !raw.connect.empty())
    throw CLI::ValidationError("--server excludes --connect (give -s or -c HOST)");
  if (raw.tun && raw.tap) throw CLI::ValidationError("--tun excludes --tap (give -u or -a)");
}

void check_combinations(Config& cfg, const RawOptions& raw) {
  const Sources& s = cfg.sources;
  if (!raw.listen.empty() && cfg.role == Role::client)
    fail(s, "listen", "--listen is for the server (-s)");
  check_hub_options(cfg);
  check_encryption_options(cfg);
  if (!cfg.link_mac.empty() && cfg.device != DeviceKind::tap)
    fail(s, "link-mac", "--link-mac is for TAP mode (-a)");
  if (!cfg.group.empty() && cfg.user.empty()) fail(s, "group", "--group goes with --user");
}

// Checks that need more than one option, after CLI11's own.
void finish(Config& cfg, const RawOptions& raw) {
  const Sources& s = cfg.sources;
  std::string nor_file = raw.config.empty() ? "" : " (" + raw.config + " does not set it)";
  check_exclusive(raw);
  if (!s.given("iface")) throw CLI::ValidationError("--iface is required" + nor_file);
  if (!raw.server && !s.given("connect"))
    throw CLI::ValidationError("one of -s/--server or -c/--connect HOST is required" + nor_file);
  cfg.role = raw.server ? Role::server : Role::client;
  cfg.device = raw.tap ? DeviceKind::tap : DeviceKind::tun;
  cfg.transport = raw.transport == "udp" ? TransportKind::udp : TransportKind::tcp;
  cfg.keepalive = std::chrono::seconds(raw.keepalive);
  cfg.debug = raw.debug;
  cfg.offload = !raw.no_offload;
  cfg.routes = raw.routes == "off" ? Routes::off : Routes::automatic;
  cfg.cipher = raw.cipher == "aes-256-gcm"         ? Cipher::aes256gcm
               : raw.cipher == "chacha20-poly1305" ? Cipher::chacha20poly1305
                                                   : Cipher::automatic;
  check_combinations(cfg, raw);
  take_endpoint(cfg, raw);
  take_metrics_listen(cfg, raw);
  check_values(cfg, raw);
  for (const auto& list : {idle_options(cfg), address_warnings(cfg, raw.addressing)})
    cfg.warnings.insert(cfg.warnings.end(), list.begin(), list.end());
  take_peers(cfg);
}

// "--connect: 1 required HOST missing" -> "-c/--connect needs a HOST".
std::string explain(const CLI::App& app, const CLI::ParseError& error) {
  std::string text = one_line(error.what());
  std::smatch m;
  if (std::regex_match(text, m, std::regex(R"(--([a-z-]+): \d+ required .* missing)"))) {
    const CLI::Option* opt = app.get_option_no_throw("--" + m[1].str());
    if (opt) {
      std::string names = opt->get_snames().empty() ? "" : "-" + opt->get_snames()[0] + "/";
      return names + "--" + m[1].str() + " needs " + with_article(opt->get_type_name());
    }
  }
  // `--debug=maybe`: a flag's value is a word of true/false, as in the config file.
  if (std::regex_match(text, m, std::regex(R"(Could not convert: --([a-z-]+) = (.*))"))) {
    const CLI::Option* opt = app.get_option_no_throw("--" + m[1].str());
    if (opt && opt->get_expected_min() == 0)
      return "--" + m[1].str() + ": expected true or false, got '" + m[2].str() + "'";
  }
  for (const char* command : {"genkey", "pubkey", "genpsk"})
    if (text.find(std::string("expected: ") + command) != std::string::npos)
      return text + " (a key command comes first and alone: tund " + command + ")";
  return text;
}

// `--private-key "$KEY"` with KEY unset is not "no --private-key" (a tunnel without
// encryption): an empty value is an error, as in the config file.
void check_empty_values(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    const auto& results = opt->results();
    if (opt->get_expected_min() == 0 || opt->count() == 0 ||
        std::none_of(results.begin(), results.end(), [](const auto& v) { return v.empty(); }))
      continue;
    std::string names = opt->get_snames().empty() ? "" : "-" + opt->get_snames()[0] + "/";
    throw CLI::ValidationError(names + "--" + opt->get_lnames()[0] + " needs " +
                               with_article(opt->get_type_name()) + " (an empty value was given)");
  }
}

// Options only one mode uses: the file's are dropped when the command line picks the other
// mode (keepalive, psk and the rest apply to both); so is link-mac (TAP only) under -u.
const std::set<std::string> kServerOnly = {"allow",     "allow-file", "listen", "max-pending",
                                           "peers-dir", "max-peers",  "routes"};
const std::set<std::string> kClientOnly = {"connect", "peer-key"};

// The file's option `e` belongs to the mode the command line did not pick: the warning
// that it is ignored, else "". A port inside a dropped `connect` goes with it.
std::string other_mode_warning(const FileOption& e, const RawOptions& command_line,
                               const std::string& path) {
  bool server = command_line.server, client = !command_line.connect.empty();
  // -u on the command line over a TAP config: the TAP-only link-mac goes the same way.
  if (e.name == "link-mac" && command_line.tun && !command_line.tap)
    return where(path, e.line) + "'link-mac' ignored: -u on the command line makes this TUN";
  if (server == client) return "";  // no mode on the command line (or both: an error later)
  if (!(server ? kClientOnly : kServerOnly).count(e.name)) return "";
  HostPort hp;
  bool with_port = e.name == "connect" && host_port_error(e.value, hp).empty() && hp.port;
  return where(path, e.line) + "'" + e.name + "' ignored" + (with_port ? " (its port too)" : "") +
         ": " + (server ? "-s" : "-c") + " on the command line makes this a " +
         (server ? "server" : "client");
}

// A value option given twice on the command line keeps the last, with a warning as in a
// config file; two config files are an error (which one was meant?).
std::vector<std::string> repeated_options(const CLI::App& app) {
  std::vector<std::string> warnings;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_expected_min() == 0 || opt->get_expected_max() != 1 || opt->count() < 2) continue;
    std::string name = "--" + opt->get_lnames()[0];
    if (name == "--config")
      throw CLI::ValidationError(
          "--config given twice (one config file; the command line adds "
          "to it)");
    warnings.push_back(name + " is given " + std::to_string(opt->count()) +
                       " times on the command line; the last value is used");
  }
  return warnings;
}

// The file's entries the command line leaves in force; `warnings` gets one line for each
// dropped because of the mode.
std::vector<FileOption> kept_entries(const CLI::App& app, const RawOptions& raw,
                                     std::vector<std::string>& warnings) {
  std::vector<FileOption> file = read_config_file(raw.config, option_specs(app));
  check_file_values(file, raw.config);
  warnings = check_file_conflicts(file, raw.config);
  std::set<std::string> command_line = given_names(app);
  std::vector<FileOption> kept;
  for (const FileOption& e : file) {
    std::string ignored = other_mode_warning(e, raw, raw.config);
    if (!ignored.empty())
      warnings.push_back(ignored);
    else if (!overridden(e, command_line, chosen_on_command_line(raw)))
      kept.push_back(e);
  }
  return kept;
}

Config parse_all(CLI::App& app, Config& cfg, RawOptions& raw,
                 const std::vector<std::string>& args) {
  check_missing_values(app, args);
  check_flag_values(app, args);
  parse_args(app, args);  // the command line alone: its own errors first
  check_empty_values(app);
  std::vector<std::string> repeated = repeated_options(app);
  std::vector<FileOption> kept;
  std::vector<std::string> warnings;
  if (!raw.config.empty()) kept = kept_entries(app, raw, warnings);
  warnings.insert(warnings.end(), repeated.begin(), repeated.end());
  Sources sources = sources_of(kept, raw.config, app);
  std::vector<std::string> all = to_args(kept);
  all.insert(all.end(), args.begin(), args.end());
  cfg = Config{};
  raw = RawOptions{};
  parse_args(app, all);
  cfg.sources = std::move(sources);
  cfg.warnings = std::move(warnings);
  finish(cfg, raw);
  return cfg;
}

}  // namespace

std::string short_usage() {
  return std::string("usage: ") + kUsage + "Run 'tund --help' for the options.\n";
}

CliResult parse_command_line(const std::vector<std::string>& args) {
  if (args.empty()) return CliExit{2, short_usage()};
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
      "  tund -c HOST -i tun3 --private-key client.key --peer-key SERVER_PUBLIC_KEY\n"
      "  tund -s -i tun3 --private-key server.key --peers-dir /etc/tund/office.peers   (hub)\n\n"
      "Config files: relative paths in one are relative to its directory (tund.conf(5)).\n"
      "Exit status: 0 after SIGINT/SIGTERM; 2 for a command-line or config error (nothing\n"
      "was started); 1 for a failure while starting or running.");
  Config cfg;
  RawOptions raw;
  define_options(app, cfg, raw);
  try {
    return parse_all(app, cfg, raw, args);
  } catch (const CLI::CallForHelp&) {
    return CliExit{0, app.help()};
  } catch (const CLI::CallForVersion& v) {
    return CliExit{0, std::string(v.what()) + "\n"};
  } catch (const CLI::ParseError& e) {
    return CliExit{2, "tund: error: " + explain(app, e) + " (see tund --help)\n"};
  } catch (const ConfigFileError& e) {
    return CliExit{2, "tund: error: " + one_line(e.what()) + "\n"};
  }
}

}  // namespace tund::config
