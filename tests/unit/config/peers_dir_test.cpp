// A hub's peers directory, as read_peers_dir and the command line read it: the files as a
// set (keys, overlapping allowed-ips, max-peers), the directory's own errors, and the hub
// options' checks and warnings.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>

#include "tund/config/cli.hpp"
#include "tund/config/config_file.hpp"
#include "tund/config/peer_files.hpp"

namespace tund::config {
namespace {

std::string key(char letter) {
  return std::string(1, letter) + std::string(42, 'A') + "=";
}

class PeersDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/tund-peers-" + std::to_string(::getpid());
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_ + "/peers");
    dir_ = base_ + "/peers";
    std::ofstream(base_ + "/server.key") << "not checked by config\n";
  }
  void TearDown() override { std::filesystem::remove_all(base_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  void peer(const std::string& name, char k, const std::string& more = "") {
    write(name, "public-key = " + key(k) + "\n" + more);
  }
  std::string error(unsigned max = 1024) {
    try {
      read_peers_dir(dir_, max);
    } catch (const ConfigFileError& e) {
      return e.what();
    }
    return "no error";
  }
  std::string dir_error(const std::string& dir) {
    try {
      read_peers_dir(dir, 1024);
    } catch (const ConfigFileError& e) {
      return e.what();
    }
    return "no error";
  }
  std::vector<std::string> hub_args() {
    return {"-s", "-i", "tun3", "--private-key", base_ + "/server.key", "--peers-dir", dir_};
  }
  std::string base_, dir_;
};

TEST_F(PeersDirTest, AnEmptyDirectoryIsAHubWithoutPeers) {
  PeersDir read = read_peers_dir(dir_, 1024);
  EXPECT_TRUE(read.peers.empty());
  EXPECT_TRUE(read.warnings.empty());
}

TEST_F(PeersDirTest, EveryFileSortedByNameHiddenOnesSkipped) {
  peer("carol", 'C', "allowed-ips = 10.8.0.4/32\n");
  peer("alice", 'A', "allowed-ips = 10.8.0.2/32\n");
  peer("bob", 'B', "allowed-ips = 10.8.0.2/32\ndisabled = true\n");  // disabled: no overlap
  write(".alice.swp", "\x01 binary junk");
  write(".#carol", "not a peer");
  std::filesystem::create_directory(dir_ + "/.git");
  PeersDir read = read_peers_dir(dir_ + "/", 2);  // a trailing slash; two enabled peers
  ASSERT_EQ(read.peers.size(), 3u);
  EXPECT_EQ(read.peers[0].name, "alice");
  EXPECT_EQ(read.peers[0].file, dir_ + "/alice");
  EXPECT_EQ(read.peers[1].name, "bob");
  EXPECT_TRUE(read.peers[1].disabled);
  EXPECT_EQ(read.peers[2].name, "carol");
  EXPECT_EQ(read.peers[2].public_key, key('C'));
}

TEST_F(PeersDirTest, TheDirectoryItself) {
  std::string missing = base_ + "/nope";
  EXPECT_EQ(dir_error(missing),
            "--peers-dir: cannot read peers directory " + missing + ": No such file or directory");
  std::string file = base_ + "/server.key";
  EXPECT_EQ(dir_error(file), "--peers-dir: " + file + " is not a directory");
  EXPECT_EQ(dir_error(file + "/x"),
            "--peers-dir: cannot read peers directory " + file + "/x: Not a directory");
}

TEST_F(PeersDirTest, FileNames) {
  peer("alice~", 'A');
  EXPECT_EQ(error(), "--peers-dir: " + dir_ +
                         "/alice~: 'alice~' is not a peer name (letters, "
                         "digits, '_', '.' and '-' only); rename it, or "
                         "hide it with a leading '.'");
  std::filesystem::remove(dir_ + "/alice~");
  peer("bob smith", 'B');
  EXPECT_NE(error().find("'bob smith' is not a peer name"), std::string::npos) << error();
}

TEST_F(PeersDirTest, SubdirectoriesAndOtherNonFiles) {
  std::filesystem::create_directory(dir_ + "/old");
  EXPECT_EQ(error(), "--peers-dir: " + dir_ +
                         "/old is a directory; each peer is one file directly in the peers "
                         "directory");
  std::filesystem::remove(dir_ + "/old");
  ASSERT_EQ(::mkfifo((dir_ + "/pipe").c_str(), 0600), 0);
  EXPECT_EQ(error(), "peer file " + dir_ + "/pipe is not a regular file");
  std::filesystem::remove(dir_ + "/pipe");
  std::filesystem::create_symlink(dir_ + "/nowhere", dir_ + "/dangling");
  EXPECT_EQ(error(), "cannot read peer file " + dir_ + "/dangling: No such file or directory");
  std::filesystem::remove(dir_ + "/dangling");
  peer("real", 'R');
  std::filesystem::create_symlink(dir_ + "/real", dir_ + "/link");  // a link to a file: fine
  EXPECT_EQ(error(), dir_ + "/real line 1: public-key is the same as " + dir_ +
                         "/link line 1 (one peer file per key)");
}

TEST_F(PeersDirTest, FileErrorsPassThrough) {
  peer("alice", 'A', "keepalive = 0\n");
  EXPECT_EQ(error(), dir_ + "/alice line 2: keepalive: 0 is out of range (1-3600)");
  write("alice", "allowed-ips = 10.0.0.1\n");
  EXPECT_EQ(error(), dir_ + "/alice: no public-key (the peer's key, as 'tund pubkey' prints it)");
}

TEST_F(PeersDirTest, APeerFileIsSmall) {
  peer("alice", 'A', "# " + std::string(1 << 20, 'x') + "\n");
  EXPECT_EQ(error(), "peer file " + dir_ + "/alice is larger than 1 MiB: not a peer file?");
}

TEST_F(PeersDirTest, OneKeyOnePeer) {
  peer("alice", 'A');
  write("bob", "# bob\ndisabled = true\npublic-key = " + key('A') + "\n");  // disabled too
  EXPECT_EQ(error(), dir_ + "/bob line 3: public-key is the same as " + dir_ +
                         "/alice line 1 (one peer file per key)");
}

TEST_F(PeersDirTest, OverlappingAllowedIps) {
  peer("alice", 'A', "allowed-ips = 10.8.0.2/32\n");
  peer("bob", 'B', "\nallowed-ips = 10.8.1.0/24, 10.8.0.0/24\n");
  EXPECT_EQ(error(), dir_ + "/alice line 2: allowed-ips 10.8.0.2/32 lies inside " + dir_ +
                         "/bob line 3's 10.8.0.0/24: a packet to it would have two peers (give "
                         "each address to one)");
  peer("bob", 'B', "allowed-ips = 10.8.0.2\n");
  EXPECT_EQ(error(), dir_ + "/bob line 2: allowed-ips 10.8.0.2/32 is also in " + dir_ +
                         "/alice line 2's 10.8.0.2/32: a packet to it would have two peers (give "
                         "each address to one)");
  peer("bob", 'B', "allowed-ips = fd00:8::/64\n");
  peer("carol", 'C', "allowed-ips = 10.8.0.3, fd00:8::0:0:3\n");
  EXPECT_EQ(error(), dir_ + "/carol line 2: allowed-ips fd00:8::3/128 lies inside " + dir_ +
                         "/bob line 2's fd00:8::/64: a packet to it would have two peers (give "
                         "each address to one)");
  peer("carol", 'C', "allowed-ips = 0.0.0.0/0\n");  // a default route contains everything
  EXPECT_NE(error().find("lies inside " + dir_ + "/carol line 2's 0.0.0.0/0"), std::string::npos)
      << error();
}

TEST_F(PeersDirTest, OverlapsThatAreFine) {
  // One peer's own nested prefixes, neighbours, the same bits in both families, and a
  // disabled peer's prefixes.
  peer("alice", 'A', "allowed-ips = 10.8.0.0/24, 10.8.0.2/32, 10.8.0.0/16\n");
  peer("bob", 'B', "allowed-ips = 10.9.0.0/24, 10.7.255.255, ::a08:2/128\n");
  peer("carol", 'C', "allowed-ips = 10.8.0.3\ndisabled = yes\n");
  peer("dave", 'D', "allowed-ips = 10.10.0.0/15\n");  // 10.10-10.11: after alice and bob
  EXPECT_EQ(error(), "no error");
}

// The sweep against every pair, on random tables: an error exactly when some two enabled
// peers' prefixes nest.
TEST_F(PeersDirTest, OverlapCheckMatchesAllPairs) {
  std::mt19937 rng(13);
  for (int round = 0; round < 40; ++round) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directory(dir_);
    std::vector<std::pair<int, util::IpPrefix>> all;
    for (int p = 0; p < 6; ++p) {
      std::string list;
      for (int i = 0; i < 3; ++i) {
        auto len = 20 + rng() % 13;
        std::string text = "10.8." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 256) +
                           "/" + std::to_string(len);
        auto prefix = *util::parse_ip_prefix(text);
        if (std::any_of(all.begin(), all.end(),
                        [&](auto& e) { return e.first == p && e.second == prefix; }))
          continue;  // the same prefix twice in one file is another error
        all.push_back({p, prefix});
        list += (list.empty() ? "" : ",") + text;
      }
      peer("p" + std::to_string(p), static_cast<char>('A' + p), "allowed-ips = " + list + "\n");
    }
    bool expected = false;
    for (auto& [pa, a] : all)
      for (auto& [pb, b] : all)
        if (pa != pb && util::contains(a, b.family, std::span(b.address).first(4))) expected = true;
    EXPECT_EQ(error().find("two peers") != std::string::npos, expected) << error();
  }
}

TEST_F(PeersDirTest, MaxPeersCountsEnabledPeers) {
  peer("a", 'A');
  peer("b", 'B');
  peer("c", 'C', "disabled = true\n");
  EXPECT_EQ(error(2), "no error");
  EXPECT_EQ(error(1), "--peers-dir: " + dir_ +
                          " holds 2 enabled peers, more than --max-peers 1 (raise --max-peers, "
                          "or set 'disabled = true' in some)");
}

// The command line and config file around it.

std::string cli_error(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (!std::holds_alternative<CliExit>(r)) return "parsed";
  const CliExit& e = std::get<CliExit>(r);
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_EQ(std::count(e.output.begin(), e.output.end(), '\n'), 1) << e.output;
  return e.output.substr(13, e.output.size() - 14);  // without "tund: error: " and '\n'
}

Config cli_ok(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->output;
  return std::get_if<Config>(&r) ? std::get<Config>(r) : Config{};
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(PeersDirTest, CommandLineFillsPeers) {
  peer("bob", 'B', "allowed-ips = 10.8.0.3\n");
  peer("alice", 'A', "allowed-ips = 10.8.0.2\n");
  Config cfg = cli_ok(hub_args());
  EXPECT_TRUE(cfg.hub());
  EXPECT_EQ(cfg.peers_dir, dir_);
  ASSERT_EQ(cfg.peers.size(), 2u);
  EXPECT_EQ(cfg.peers[0].name, "alice");
  EXPECT_EQ(cfg.peers[1].name, "bob");
  EXPECT_EQ(cfg.max_peers, 1024u);
  EXPECT_EQ(cfg.routes, Routes::automatic);
  EXPECT_TRUE(cfg.warnings.empty());
  cfg = cli_ok(plus(hub_args(), {"--max-peers", "2", "--routes", "off", "-t", "udp"}));
  EXPECT_EQ(cfg.max_peers, 2u);
  EXPECT_EQ(cfg.routes, Routes::off);
  EXPECT_EQ(cli_error(plus(hub_args(), {"--max-peers", "1"})),
            "--peers-dir: " + dir_ +
                " holds 2 enabled peers, more than --max-peers 1 (raise --max-peers, or set "
                "'disabled = true' in some) (see tund --help)");
}

TEST_F(PeersDirTest, HubOptionErrors) {
  std::string key_file = base_ + "/server.key";
  EXPECT_EQ(cli_error({"-s", "-i", "tun3", "--peers-dir", dir_}),
            "--peers-dir needs --private-key: in hub mode each peer is known by its key (see "
            "tund --help)");
  EXPECT_EQ(cli_error({"-s", "-i", "tun3", "--peers-dir", dir_, "--psk", key_file}),
            "--peers-dir needs --private-key: in hub mode each peer is known by its key (see "
            "tund --help)");
  EXPECT_EQ(cli_error(plus(hub_args(), {"--allow", key('A')})),
            "--allow and --peers-dir exclude each other: a hub's clients are its peer files "
            "(pick one) (see tund --help)");
  EXPECT_EQ(cli_error(plus(hub_args(), {"--allow-file", key_file})),
            "--allow-file and --peers-dir exclude each other: a hub's clients are its peer "
            "files (pick one) (see tund --help)");
  EXPECT_EQ(cli_error({"-c", "198.18.0.1", "-i", "tun3", "--peers-dir", dir_}),
            "--peers-dir is for the server (-s) (see tund --help)");
  EXPECT_EQ(cli_error(plus(hub_args(), {"--max-peers", "0"})),
            "--max-peers: 0 is out of range (1-65535) (see tund --help)");
  EXPECT_EQ(cli_error(plus(hub_args(), {"--max-peers", "65536"})),
            "--max-peers: 65536 is out of range (1-65535) (see tund --help)");
  EXPECT_EQ(cli_error(plus(hub_args(), {"--routes", "on"})),
            "--routes: 'on' (expected auto or off) (see tund --help)");
  EXPECT_EQ(cli_error(plus(hub_args(), {"--peers-dir", ""})),
            "--peers-dir needs a DIR (an empty value was given) (see tund --help)");
  EXPECT_EQ(
      cli_error({"-s", "-i", "tun3", "--private-key", key_file, "--peers-dir", base_ + "/none"}),
      "--peers-dir: cannot read peers directory " + base_ +
          "/none: No such file or directory (see tund --help)");
  peer("alice", 'A', "up =\n");
  EXPECT_EQ(cli_error(hub_args()), dir_ + "/alice line 2: 'up' needs a value");
}

TEST_F(PeersDirTest, HubOptionsWithoutPeersDirWarn) {
  Config cfg = cli_ok({"-s", "-i", "tun3", "--max-peers", "10", "--routes", "off"});
  ASSERT_EQ(cfg.warnings.size(), 2u);
  EXPECT_EQ(cfg.warnings[0],
            "--max-peers does nothing without --peers-dir (it is a hub mode "
            "option)");
  EXPECT_EQ(cfg.warnings[1],
            "--routes does nothing without --peers-dir (it is a hub mode "
            "option)");
  EXPECT_FALSE(cfg.hub());
  // A plain encrypted server still needs its --allow list.
  EXPECT_EQ(cli_error({"-s", "-i", "tun3", "--private-key", base_ + "/server.key"}),
            "--private-key on a server needs --allow KEY or --allow-file FILE (who may connect) "
            "(see tund --help)");
}

TEST_F(PeersDirTest, HostBitWarningsReachTheConfig) {
  peer("alice", 'A', "allowed-ips = 10.8.0.9/30\n");
  Config cfg = cli_ok(hub_args());
  ASSERT_EQ(cfg.warnings.size(), 1u);
  EXPECT_EQ(cfg.warnings[0], dir_ +
                                 "/alice line 2: allowed-ips: '10.8.0.9/30' has host bits "
                                 "set; it means 10.8.0.8/30");
}

TEST_F(PeersDirTest, PeerKeepaliveOverTcpWarnsOnce) {
  peer("alice", 'A', "\nkeepalive = 5\n");
  peer("bob", 'B', "keepalive = 5\n");
  peer("carol", 'C', "keepalive = 5\n");
  peer("dave", 'D');
  Config cfg = cli_ok(hub_args());
  ASSERT_EQ(cfg.warnings.size(), 1u);
  EXPECT_EQ(cfg.warnings[0], dir_ +
                                 "/alice line 3: keepalive does nothing over TCP (it is the "
                                 "UDP keepalive interval) (nor in 2 other peer files)");
  EXPECT_TRUE(cli_ok(plus(hub_args(), {"-t", "udp"})).warnings.empty());
  std::filesystem::remove(dir_ + "/bob");
  std::filesystem::remove(dir_ + "/carol");
  cfg = cli_ok(hub_args());
  ASSERT_EQ(cfg.warnings.size(), 1u);
  EXPECT_EQ(cfg.warnings[0], dir_ +
                                 "/alice line 3: keepalive does nothing over TCP (it is the "
                                 "UDP keepalive interval)");
}

TEST_F(PeersDirTest, ConfigFileKeys) {
  peer("alice", 'A', "allowed-ips = 10.8.0.2\n");
  std::string conf = base_ + "/hub.conf";
  std::ofstream(conf) << "server = true\niface = tun3\nprivate-key = server.key\n"
                         "peers-dir = peers    # relative to this file\nmax-peers = 5\n"
                         "routes = off\n";
  Config cfg = cli_ok({"--config", conf});
  EXPECT_EQ(cfg.peers_dir, dir_);
  ASSERT_EQ(cfg.peers.size(), 1u);
  EXPECT_EQ(cfg.max_peers, 5u);
  EXPECT_EQ(cfg.routes, Routes::off);
  EXPECT_EQ(cfg.sources.prefix("peers-dir"), conf + " line 4: ");
  // -c on the command line drops the file's server-only hub keys, with a warning each.
  cfg = cli_ok({"--config", conf, "-c", "198.18.0.1", "--peer-key", key('S')});
  EXPECT_FALSE(cfg.hub());
  EXPECT_EQ(std::count_if(cfg.warnings.begin(), cfg.warnings.end(),
                          [](const std::string& w) { return w.find("' ignored: -c") != w.npos; }),
            3);
}

TEST_F(PeersDirTest, ConfigFileErrorsNameTheLine) {
  std::string conf = base_ + "/hub.conf";
  auto with = [&](const std::string& line) {
    std::ofstream(conf) << "server = true\niface = tun3\nprivate-key = server.key\n"
                        << line << "\n";
    return cli_error({"--config", conf});
  };
  EXPECT_EQ(with("max-peers = many"), conf +
                                          " line 4: --max-peers: 'many' is not a number "
                                          "(1-65535)");
  EXPECT_EQ(with("routes = yes"), conf + " line 4: --routes: 'yes' (expected auto or off)");
  EXPECT_EQ(with("peers-dir = missing"), conf +
                                             " line 4: --peers-dir: cannot read peers "
                                             "directory " +
                                             base_ +
                                             "/missing: No such file "
                                             "or directory");
  EXPECT_EQ(with("peers-dir = peers\nallow = " + key('Q')),
            conf +
                " line 5: --allow and --peers-dir exclude each other: a hub's clients are "
                "its peer files (pick one)");
  peer("a", 'A');
  peer("b", 'B');
  EXPECT_EQ(with("peers-dir = peers\nmax-peers = 1"),
            conf + " line 4: --peers-dir: " + dir_ +
                " holds 2 enabled peers, more than --max-peers 1 (raise --max-peers, or set "
                "'disabled = true' in some)");
}

}  // namespace
}  // namespace tund::config
