#include "tund/crypto/keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace tund::crypto {
namespace {

struct KeyFiles : ::testing::Test {
  std::string dir;
  void SetUp() override {
    init_sodium();
    char tmpl[] = "/tmp/tund-keys-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir).c_str()); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
};

TEST_F(KeyFiles, Base64RoundTrip) {
  Key k = random_private_key();
  std::string text = to_base64(k);
  EXPECT_EQ(text.size(), 44u);
  EXPECT_EQ(key_from_base64(text, "k"), k);
}

TEST_F(KeyFiles, MalformedKeysAreRefused) {
  for (const std::string& bad : std::vector<std::string>{
           "", "abc", std::string(44, '!'), std::string(42, 'A') + "==", std::string(60, 'A')})
    EXPECT_THROW(key_from_base64(bad, "k"), KeyError) << bad;
}

TEST_F(KeyFiles, SecretFileMustBePrivate) {
  std::string text = to_base64(random_private_key()) + "\n";
  EXPECT_NO_THROW(read_secret_key_file(write("ok.key", text, 0600)));
  EXPECT_NO_THROW(read_secret_key_file(write("ro.key", text, 0400)));
  try {
    read_secret_key_file(write("open.key", text, 0644));
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("accessible by group or others (mode 0644)"),
              std::string::npos);
  }
  EXPECT_THROW(read_secret_key_file(write("group.key", text, 0640)), KeyError);
  EXPECT_THROW(read_secret_key_file(dir + "/missing.key"), KeyError);
  EXPECT_THROW(read_secret_key_file(write("junk.key", "hello\n", 0600)), KeyError);
}

TEST_F(KeyFiles, PublicKeyFromTextOrFile) {
  Key k = x25519_public(random_private_key());
  EXPECT_EQ(read_public_key(to_base64(k)), k);
  EXPECT_EQ(read_public_key(write("peer.pub", to_base64(k) + "\n", 0644)), k);
  EXPECT_THROW(read_public_key(dir + "/nope.pub"), KeyError);
}

TEST_F(KeyFiles, AllowFileWithCommentsAndBlankLines) {
  Key a = x25519_public(random_private_key()), b = x25519_public(random_private_key());
  std::string path =
      write("allow", "# office\n" + to_base64(a) + "  # laptop\n\n  " + to_base64(b) + "\n", 0644);
  auto keys = read_allow_file(path);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], a);
  EXPECT_EQ(keys[1], b);
  try {
    read_allow_file(write("bad", to_base64(a) + "\nnot-a-key\n", 0644));
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find(":2"), std::string::npos) << "names the line";
  }
}

TEST_F(KeyFiles, TimestampsIncrease) {
  auto a = tai64n_now();
  usleep(1000);
  auto b = tai64n_now();
  EXPECT_LT(a, b);
}

}  // namespace
}  // namespace tund::crypto
