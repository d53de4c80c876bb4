// SIGHUP reload of the key files: what is applied, what is refused, and the log line.
#include "tund/daemon/key_reload.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

struct Reload : ::testing::Test {
  std::string dir = ::testing::TempDir();
  std::vector<std::string> lines;
  util::Logger log{util::LogLevel::info,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  config::Config cfg;

  void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0600);
  }
  std::string public_text() {
    return crypto::to_base64(crypto::x25519_public(crypto::random_private_key())) + "\n";
  }
  void SetUp() override {
    crypto::init_sodium();
    cfg.role = config::Role::server;
    cfg.private_key_file = dir + "/reload-server.key";
    write(cfg.private_key_file, crypto::to_base64(crypto::random_private_key()) + "\n");
    cfg.allow_files = {dir + "/reload-allowed"};
    write(cfg.allow_files[0], public_text());
  }
  bool logged(const std::string& part) const {
    for (const auto& line : lines)
      if (line.find(part) != std::string::npos) return true;
    return false;
  }
};

TEST_F(Reload, AppliesTheAllowListAndRefusesABadOneOrANewPrivateKey) {
  KeyMaterial keys = load_keys(cfg);
  crypto::IdentityConfig ic;
  ic.private_key = keys.private_key;
  ic.allowed = keys.allowed;
  crypto::Identity identity(ic);
  KeyReloader reloader(cfg, log);
  reloader.attach(&identity, keys);
  unsigned sessions_told = 0;
  reloader.on_sessions_changed([&](auto) {
    // A session the reload ends is logged after the reload's own line, as a consequence.
    EXPECT_TRUE(logged("reloaded the key files"));
    ++sessions_told;
  });

  write(cfg.allow_files[0], public_text() + public_text());
  reloader.on_sighup();
  EXPECT_TRUE(
      logged("reloaded the key files for new handshakes: 2 allowed client keys (2 added, "
             "1 removed), psk unchanged"));
  EXPECT_EQ(sessions_told, 1u) << "the sessions follow the identity";
  EXPECT_FALSE(identity.allowed(keys.allowed.at(0))) << "the removed key no longer gets in";

  write(cfg.allow_files[0], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
  reloader.on_sighup();
  EXPECT_TRUE(logged("keeping the current keys"));
  EXPECT_TRUE(logged("reload-allowed:1: all zeros"));
  EXPECT_EQ(sessions_told, 1u) << "a refused reload changes nothing";

  write(cfg.allow_files[0], public_text());
  write(cfg.private_key_file, crypto::to_base64(crypto::random_private_key()) + "\n");
  reloader.on_sighup();
  EXPECT_TRUE(logged("holds a different private key; not applied"));
  EXPECT_TRUE(logged("1 allowed client keys (1 added, 2 removed)"));
}

TEST_F(Reload, PlaintextHasNothingToReload) {
  config::Config plain;
  KeyReloader reloader(plain, log);
  reloader.on_sighup();
  EXPECT_TRUE(logged("nothing to reload"));
}

}  // namespace
}  // namespace tund::daemon
