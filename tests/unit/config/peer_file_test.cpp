// One peer file of a hub's peers directory: each key's meaning, its line, and every error
// naming the file and line (the syntax itself is the config file's, tested there).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tund/config/config_file.hpp"
#include "tund/config/peer_files.hpp"

namespace tund::config {
namespace {

// A valid base64 32-byte key, distinct for each letter.
std::string key(char letter) {
  return std::string(1, letter) + std::string(42, 'A') + "=";
}

class PeerFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tund-peer-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0700);
    std::ofstream(dir_ + "/alice.psk") << "psk\n";
  }
  void TearDown() override {
    ::unlink((dir_ + "/alice.psk").c_str());
    ::rmdir((dir_ + "/sub").c_str());
    ::rmdir(dir_.c_str());
  }
  PeerSpec parse(const std::string& text) { return parse_peer_file(text, path(), &warnings_); }
  // The error message for `text`, "no error" when it parses.
  std::string error(const std::string& text) {
    try {
      parse(text);
    } catch (const ConfigFileError& e) {
      return e.what();
    }
    return "no error";
  }
  std::string path() const { return dir_ + "/alice"; }
  std::string dir_;
  std::vector<std::string> warnings_;
};

TEST_F(PeerFile, EveryKey) {
  PeerSpec p = parse("# alice's laptop\npublic-key = " + key('B') +
                     "\nallowed-ips = 10.8.0.2/32\nallowed-ips = 10.9.0.0/24, fd00:8::2\n"
                     "psk = alice.psk\nkeepalive = 25\nup = logger \"up $TUND_PEER_NAME\"\n"
                     "down = logger down\ndisabled = no\n");
  EXPECT_EQ(p.name, "alice");
  EXPECT_EQ(p.file, path());
  EXPECT_EQ(p.public_key, key('B'));
  ASSERT_EQ(p.allowed_ips.size(), 3u);
  EXPECT_EQ(util::to_string(p.allowed_ips[0]), "10.8.0.2/32");
  EXPECT_EQ(util::to_string(p.allowed_ips[1]), "10.9.0.0/24");
  EXPECT_EQ(util::to_string(p.allowed_ips[2]), "fd00:8::2/128");
  EXPECT_EQ(p.psk_file, dir_ + "/alice.psk");  // relative to the peers directory
  ASSERT_TRUE(p.keepalive);
  EXPECT_EQ(p.keepalive->count(), 25);
  EXPECT_EQ(p.up_command, "logger \"up $TUND_PEER_NAME\"");
  EXPECT_EQ(p.down_command, "logger down");
  EXPECT_FALSE(p.disabled);
  EXPECT_EQ(p.lines.at("public-key"), 2);
  EXPECT_EQ(p.lines.at("allowed-ips"), 3);  // the first
  EXPECT_EQ(p.lines.at("allowed-ips 10.8.0.2/32"), 3);
  EXPECT_EQ(p.lines.at("allowed-ips 10.9.0.0/24"), 4);
  EXPECT_EQ(p.lines.at("allowed-ips fd00:8::2/128"), 4);
  EXPECT_EQ(p.lines.at("psk"), 5);
  EXPECT_EQ(p.lines.at("keepalive"), 6);
  EXPECT_EQ(p.lines.at("up"), 7);
  EXPECT_EQ(p.lines.at("down"), 8);
  EXPECT_EQ(p.lines.at("disabled"), 9);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(PeerFile, OnlyThePublicKeyIsRequired) {
  PeerSpec p = parse("public-key = \"" + key('C') + "\"  # quoted, commented\n");
  EXPECT_EQ(p.public_key, key('C'));
  EXPECT_TRUE(p.allowed_ips.empty());
  EXPECT_TRUE(p.psk_file.empty());
  EXPECT_FALSE(p.keepalive);
  EXPECT_FALSE(p.disabled);
  EXPECT_TRUE(parse("disabled = TRUE\npublic-key = " + key('C')).disabled);
  EXPECT_EQ(error("allowed-ips = 10.8.0.2/32\n"),
            path() + ": no public-key (the peer's key, as 'tund pubkey' prints it)");
  EXPECT_EQ(error(""), path() + ": no public-key (the peer's key, as 'tund pubkey' prints it)");
}

TEST_F(PeerFile, AbsolutePskIsKept) {
  PeerSpec p = parse("public-key = " + key('B') + "\npsk = " + dir_ + "/alice.psk\n");
  EXPECT_EQ(p.psk_file, dir_ + "/alice.psk");
}

TEST_F(PeerFile, HostBitsAreClearedWithAWarning) {
  PeerSpec p = parse("public-key = " + key('B') + "\nallowed-ips = 10.8.0.5/24\n");
  EXPECT_EQ(util::to_string(p.allowed_ips.at(0)), "10.8.0.0/24");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0], path() +
                              " line 2: allowed-ips: '10.8.0.5/24' has host bits set; it "
                              "means 10.8.0.0/24");
  parse_peer_file("public-key = " + key('B') + "\nallowed-ips = 10.8.0.5/24\n", path());  // no sink
}

TEST_F(PeerFile, ValueErrorsNameFileAndLine) {
  std::string k = "public-key = " + key('B') + "\n";
  std::string at = path() + " line 2: ";
  struct Case {
    std::string line, expected;
  } cases[] = {
      {"allowed-ips = 10.8.0.2/33", "allowed-ips: '10.8.0.2/33': bad prefix length (0-32)"},
      {"allowed-ips = 10.8.0.2/32,,10.8.0.3",
       "allowed-ips: an empty entry in "
       "'10.8.0.2/32,,10.8.0.3'"},
      {"allowed-ips = 10.8.0.2/32,", "allowed-ips: an empty entry in '10.8.0.2/32,'"},
      {"allowed-ips = 10.8.0.2 10.8.0.3",
       "allowed-ips: '10.8.0.2 10.8.0.3': spaces or control "
       "characters inside an address (separate prefixes with ',')"},
      {"allowed-ips = fe80::1%eth0",
       "allowed-ips: 'fe80::1%eth0': a zone index (%...) has no "
       "meaning in a prefix"},
      {"allowed-ips = laptop", "allowed-ips: 'laptop' is not an IPv4 or IPv6 address"},
      {"allowed-ips = 10.8.0.2, 10.8.0.2/32", "allowed-ips: 10.8.0.2/32 is listed twice (line 2)"},
      {"keepalive = 0", "keepalive: 0 is out of range (1-3600)"},
      {"keepalive = 3601", "keepalive: 3601 is out of range (1-3600)"},
      {"keepalive = 99999999999", "keepalive: 99999999999 is out of range (1-3600)"},
      {"keepalive = 25s", "keepalive: '25s' is not a number (1-3600)"},
      {"keepalive = -1", "keepalive: '-1' is not a number (1-3600)"},
      {"disabled = maybe", "disabled: expected true or false, got 'maybe'"},
      {"psk = missing.psk",
       "psk: cannot read psk file " + dir_ + "/missing.psk: No such file or directory"},
      {"psk = .", "psk: psk file " + dir_ + "/. is a directory, not a file"},
      {"up =", "'up' needs a value"},
      {"public-key = " + key('C'),
       "'public-key' is set again (first on line 1); a peer file "
       "gives it once"},
      {"PublicKey = " + key('C'), "unknown key 'PublicKey' (did you mean 'public-key'?)"},
      {"AllowedIPs = 10.8.0.2/32", "unknown key 'AllowedIPs' (did you mean 'allowed-ips'?)"},
      {"endpoint = 198.18.0.2:51820", "unknown key 'endpoint'"},
      {"iface = tun0", "unknown key 'iface'"},
      {"[Peer]", "sections ([...]) are not used; expected 'name = value'"},
      {"allowed-ips 10.8.0.2/32", "expected 'name = value'"},
  };
  for (const Case& c : cases) EXPECT_EQ(error(k + c.line + "\n"), at + c.expected) << c.line;
  EXPECT_EQ(error(k + "allowed-ips = 10.8.0.2/32\nallowed-ips = 10.8.0.2\n"),
            path() + " line 3: allowed-ips: 10.8.0.2/32 is listed twice (line 2)");
}

TEST_F(PeerFile, BadKeys) {
  std::string at = path() + " line 1: public-key: '";
  std::string why = "' is not a base64 32-byte key (as 'tund pubkey' prints one)";
  for (std::string bad :
       {std::string("AAAA"), std::string(44, 'A'), key('B').substr(1), "!" + key('B').substr(1),
        std::string(42, 'A') + "B=", std::string(43, 'A') + "B" + "=",
        std::string("AAAAAAAAAAAAAAAAAAAAAA==")})
    EXPECT_EQ(error("public-key = " + bad + "\n"), at + bad + why) << bad;
}

TEST_F(PeerFile, EachSingleKeyOnce) {
  std::string k = "public-key = " + key('B') + "\n";
  for (std::string line :
       {"psk = alice.psk", "keepalive = 5", "up = a", "down = a", "disabled = false"}) {
    std::string name = line.substr(0, line.find(' '));
    EXPECT_EQ(error(k + line + "\n" + line + "\n"),
              path() + " line 3: '" + name +
                  "' is set again (first on line 2); a peer file "
                  "gives it once")
        << line;
  }
}

TEST_F(PeerFile, TextErrorsOfTheConfigParser) {
  EXPECT_EQ(error("public-key = " + key('B') + "\nup = \"x\n"),
            path() + " line 2: unterminated quote");
  EXPECT_EQ(error(std::string("public-key = x\0y\n", 17)),
            path() + " line 1: a NUL byte (not a text file? UTF-16 must be saved as UTF-8)");
}

TEST(PeerName, Rules) {
  for (const char* ok : {"alice", "Bob-2", "office.gw", "a_b", "x", "...", "-a"})
    EXPECT_EQ(peer_name_error(ok), "") << ok;
  EXPECT_EQ(peer_name_error(""), "an empty peer name");
  EXPECT_EQ(peer_name_error("."), "'.' is not a peer name");
  EXPECT_EQ(peer_name_error(".."), "'..' is not a peer name");
  for (const char* bad : {"alice~", "a b", "a/b", "é", "a:b", "a\nb", "#alice#"})
    EXPECT_EQ(
        peer_name_error(bad),
        "'" + std::string(bad) + "' is not a peer name (letters, digits, '_', '.' and '-' only)")
        << bad;
}

}  // namespace
}  // namespace tund::config
