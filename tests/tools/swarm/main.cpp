// tund_swarm: many tund clients in one process, for testing and benchmarking a hub.
//   tund_swarm keys --count N --dir DIR --net 10.77.0.0/16 [--psk FILE]
//   tund_swarm run --server HOST[:PORT] --dir DIR --server-key KEY|FILE [--udp] [--tap]
//                  [--count N] [--source-net 127.77.0.0/16] [--ping ADDR] [--check] ...
// See swarm_keys.hpp for the files and swarm_run.hpp for the output.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <exception>

#include "swarm/swarm_run.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/proto/wire.hpp"

namespace {

using namespace tund;
using namespace tund::swarm;

struct RunArgs {
  std::string server, dir, server_key, psk, source_net, ping;
  std::size_t count = 0;
  bool udp = false, tap = false, check = false, verbose = false;
  unsigned mtu = 1400, keepalive = 10;
  double interval = 5, ping_interval = 1, exit_after = 0, start_rate = 0;
};

struct KeysArgs {
  std::string dir, net, psk;
  std::size_t count = 0;
};

// "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT".
transport::RemoteServer parse_server(const std::string& text) {
  transport::RemoteServer server{text, proto::kDefaultPort, {}};
  std::size_t colon = text.rfind(':');
  bool bracketed = !text.empty() && text[0] == '[';
  std::size_t close = text.find(']');
  if (bracketed && close != std::string::npos) {
    server.host = text.substr(1, close - 1);
    colon = close + 1 < text.size() && text[close + 1] == ':' ? close + 1 : std::string::npos;
  } else if (colon != std::string::npos && text.find(':') != colon) {
    colon = std::string::npos;  // a bare IPv6 address
  }
  if (colon == std::string::npos) return server;
  if (!bracketed) server.host = text.substr(0, colon);
  unsigned long port = std::stoul(text.substr(colon + 1));
  if (port == 0 || port > 65535) throw std::runtime_error("--server: bad port in '" + text + "'");
  server.port = static_cast<std::uint16_t>(port);
  return server;
}

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

std::vector<ClientSpec> client_specs(const RunArgs& args) {
  std::vector<ClientEntry> entries = read_client_list(args.dir);
  if (args.count > entries.size())
    throw std::runtime_error("--count " + std::to_string(args.count) + ": " + args.dir +
                             " has keys for " + std::to_string(entries.size()) + " clients");
  if (args.count > 0) entries.resize(args.count);
  std::optional<Ipv4Net> sources;
  if (!args.source_net.empty()) sources = parse_ipv4_net(args.source_net, "--source-net");
  std::vector<ClientSpec> specs;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    ClientSpec spec{entries[i].name, entries[i].address, entries[i].prefix_len,
                    crypto::read_secret_key_file(entries[i].key_file), std::nullopt};
    if (sources) spec.source = asio::ip::make_address(to_string(host_address(*sources, i + 1)));
    specs.push_back(std::move(spec));
  }
  return specs;
}

RunOptions run_options(asio::io_context& io, const RunArgs& args) {
  RunOptions o;
  o.settings.server = parse_server(args.server);
  o.settings.server.addresses =
      transport::resolve(io, o.settings.server.host, o.settings.server.port);
  o.settings.udp = args.udp;
  o.settings.tap = args.tap;
  o.settings.server_public = crypto::read_public_key(args.server_key);
  if (!args.psk.empty()) o.settings.psk = crypto::read_secret_key_file(args.psk);
  o.settings.mtu = args.mtu;
  o.settings.keepalive = std::chrono::seconds(args.keepalive);
  o.settings.log_level = args.verbose ? util::LogLevel::info : util::LogLevel::warn;
  o.clients = client_specs(args);
  if (!args.ping.empty()) {
    o.ping = link::parse_ipv4(args.ping);
    if (!o.ping) throw std::runtime_error("--ping: '" + args.ping + "' is not an IPv4 address");
  }
  o.ping_interval = seconds(args.ping_interval);
  o.report_interval = seconds(args.interval);
  o.exit_after = seconds(args.exit_after);
  o.start_rate = args.start_rate;
  o.check = args.check;
  return o;
}

// A thousand clients need a thousand sockets and more: take what the hard limit allows.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

int run(const RunArgs& args) {
  crypto::init_sodium();
  raise_fd_limit();
  asio::io_context io;
  Swarm swarm(io, run_options(io, args));
  return swarm.run();
}

int keys(const KeysArgs& args) {
  crypto::init_sodium();
  std::optional<std::string> psk;
  if (!args.psk.empty()) psk = args.psk;
  write_swarm_keys(args.dir, args.count, parse_ipv4_net(args.net, "--net"), psk);
  std::printf("swarm: wrote %zu clients to %s (peer files in %s/peers)\n", args.count,
              args.dir.c_str(), args.dir.c_str());
  return 0;
}

void add_run(CLI::App& app, RunArgs& a) {
  auto* run = app.add_subcommand("run", "run the clients");
  run->add_option("--server", a.server, "HOST[:PORT] of the hub")->required();
  run->add_option("--dir", a.dir, "where `keys` wrote the clients")->required();
  run->add_option("--server-key", a.server_key, "the hub's public key (base64 or file)")
      ->required();
  run->add_option("--count", a.count, "the first N clients of DIR (default: all)");
  run->add_flag("--udp", a.udp, "UDP (default TCP)");
  run->add_flag("--tap", a.tap, "TAP: Ethernet frames (pings not sent)");
  run->add_option("--psk", a.psk, "preshared key file, for every client");
  run->add_option("--source-net", a.source_net, "client i sends from host i+1 of this IPv4 net");
  run->add_option("--ping", a.ping, "every client pings this tunnel address");
  run->add_option("--ping-interval", a.ping_interval, "seconds between pings (default 1)");
  run->add_option("--interval", a.interval, "seconds between counter lines (default 5)");
  run->add_option("--exit-after", a.exit_after, "stop after this many seconds (default: never)");
  run->add_option("--start-rate", a.start_rate,
                  "clients started per second (default: all at once)");
  run->add_option("--mtu", a.mtu, "tunnel MTU (default 1400)");
  run->add_option("--keepalive", a.keepalive, "UDP keepalive seconds (default 10)");
  run->add_flag("--check", a.check,
                "exit 1 unless all have a session (and ping replies) at the end");
  run->add_flag("--verbose", a.verbose, "the clients' info log lines too");
}

void add_keys(CLI::App& app, KeysArgs& a) {
  auto* keys = app.add_subcommand("keys", "write client keys and the hub's peer files");
  keys->add_option("--count", a.count, "number of clients")
      ->required()
      ->check(CLI::Range(1, 65000));
  keys->add_option("--dir", a.dir, "output directory")->required();
  keys->add_option("--net", a.net, "tunnel network, e.g. 10.77.0.0/16")->required();
  keys->add_option("--psk", a.psk, "psk file named in every peer file");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("tund_swarm: many tund clients in one process (testing a hub)");
  app.require_subcommand(1);
  RunArgs run_args;
  KeysArgs keys_args;
  add_run(app, run_args);
  add_keys(app, keys_args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return app.got_subcommand("run") ? run(run_args) : keys(keys_args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tund_swarm: error: %s\n", e.what());
    return 2;
  }
}
