// Keys as the configuration names them: errors that name the option and the config file
// line, a public key given as the private key, and this side's own key given as the peer's.
#include "tund/daemon/key_material.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

struct Keys : ::testing::Test {
  std::string dir = ::testing::TempDir();
  config::Config cfg;
  crypto::Key priv{};

  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir + "/km-" + std::to_string(::getpid()) + "-" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0600);
    return path;
  }
  std::string random_public() {
    return crypto::to_base64(crypto::x25519_public(crypto::random_private_key()));
  }
  void SetUp() override {
    crypto::init_sodium();
    priv = crypto::random_private_key();
    priv[31] &= std::byte{0x7f};  // also a canonical public key, for the swapped-key case
    cfg.role = config::Role::client;
    cfg.private_key_file = write("client.key", crypto::to_base64(priv) + "\n");
    cfg.peer_key = random_public();
  }
  std::string error() {
    try {
      load_keys(cfg);
    } catch (const crypto::KeyError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(Keys, LoadsAndKnowsItsOwnPublicKey) {
  KeyMaterial keys = load_keys(cfg);
  EXPECT_EQ(keys.public_key, crypto::x25519_public(priv));
  EXPECT_EQ(crypto::to_base64(*keys.peer_public), cfg.peer_key);
  EXPECT_TRUE(key_warnings(cfg, keys).empty());
}

TEST_F(Keys, APublicKeyGivenAsThePrivateKeyIsRefused) {
  cfg.peer_key = crypto::to_base64(priv);  // the same key in both places
  EXPECT_EQ(error(), "--private-key: " + cfg.private_key_file +
                         " holds the public key given as --peer-key, not this side's private key "
                         "(files swapped?)");
  cfg.role = config::Role::server;
  cfg.peer_key.clear();
  cfg.allow = {random_public(), write("c.pub", crypto::to_base64(priv) + "\n")};
  EXPECT_EQ(error(), "--private-key: " + cfg.private_key_file +
                         " holds the public key given as --allow, not this side's private key "
                         "(files swapped?)");
}

TEST_F(Keys, OwnPublicKeyAsThePeersIsAWarning) {
  cfg.peer_key = crypto::to_base64(crypto::x25519_public(priv));
  KeyMaterial keys = load_keys(cfg);
  ASSERT_EQ(key_warnings(cfg, keys).size(), 1u);
  EXPECT_NE(key_warnings(cfg, keys)[0].find("--peer-key is this side's own public key"),
            std::string::npos);
  cfg.role = config::Role::server;
  cfg.peer_key.clear();
  cfg.allow = {crypto::to_base64(crypto::x25519_public(priv))};
  keys = load_keys(cfg);
  ASSERT_EQ(key_warnings(cfg, keys).size(), 1u);
  EXPECT_NE(key_warnings(cfg, keys)[0].find("the server's own public key"), std::string::npos);
}

TEST_F(Keys, ErrorsNameTheOptionAndTheConfigLine) {
  cfg.peer_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  cfg.sources.by_option["peer-key"] = {{"/etc/tund/x.conf", 7}};
  EXPECT_EQ(error(), "/etc/tund/x.conf line 7: --peer-key: key '" + cfg.peer_key +
                         "': all zeros, not a public key");
  cfg.peer_key = random_public();
  ::chmod(cfg.private_key_file.c_str(), 0644);
  cfg.sources.by_option["private-key"] = {{"/etc/tund/x.conf", 3}};
  EXPECT_EQ(error().rfind("/etc/tund/x.conf line 3: --private-key: key file " +
                              cfg.private_key_file + " is accessible by group or others",
                          0),
            0u)
      << error();
  ::chmod(cfg.private_key_file.c_str(), 0600);
  cfg.role = config::Role::server;
  cfg.peer_key.clear();
  cfg.allow = {random_public(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="};
  cfg.sources.by_option["allow"] = {{"/etc/tund/x.conf", 4}, {}};
  EXPECT_EQ(error().rfind("--allow: key", 0), 0u) << "the second came from the command line";
  cfg.sources.by_option["allow"] = {{}, {"/etc/tund/x.conf", 9}};
  EXPECT_EQ(error().rfind("/etc/tund/x.conf line 9: --allow: key", 0), 0u) << error();
}

}  // namespace
}  // namespace tund::daemon
