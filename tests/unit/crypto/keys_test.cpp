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

TEST_F(KeyFiles, ALeadingByteOrderMarkIsSkipped) {
  // Notepad writes one; config files skip it, so key files do too.
  const std::string bom = "\xEF\xBB\xBF";
  Key priv = random_private_key(), pub = x25519_public(random_private_key());
  EXPECT_EQ(read_secret_key_file(write("bom.key", bom + to_base64(priv) + "\r\n", 0600)), priv);
  EXPECT_EQ(read_public_key(write("bom.pub", bom + to_base64(pub) + "\n", 0644)), pub);
  auto keys = read_allow_file(write("bom.allow", bom + to_base64(pub) + "\r\n", 0644));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], pub);
  EXPECT_EQ(key_from_base64(bom + to_base64(priv) + "\r\n", "stdin"), priv);
}

// One key on one line: a note under it or two keys pasted together are not half-read.
TEST_F(KeyFiles, TextAfterTheKeyIsRefused) {
  std::string key = to_base64(random_private_key());
  EXPECT_NO_THROW(read_secret_key_file(write("blank.key", key + "\n\n  \n", 0600)));
  for (const std::string& extra : {key + "\ngarbage here\n", key + "\n" + key + "\n"}) {
    try {
      read_secret_key_file(write("extra.key", extra, 0600));
      FAIL() << extra;
    } catch (const KeyError& e) {
      EXPECT_NE(std::string(e.what()).find("line 2: text after the key"), std::string::npos)
          << e.what();
    }
  }
  Key pub = x25519_public(random_private_key());
  EXPECT_THROW(read_public_key(write("two.pub", to_base64(pub) + "\n" + key + "\n", 0644)),
               KeyError);
}

TEST_F(KeyFiles, AnAllZeroSecretKeyIsRefused) {
  EXPECT_THROW(check_secret_key(Key{}, "k"), KeyError);
  EXPECT_NO_THROW(check_secret_key(random_private_key(), "k"));
}

TEST_F(KeyFiles, AnOpenKeyFileMayBeAPublicKey) {
  try {
    read_secret_key_file(write("s.pub", to_base64(random_private_key()) + "\n", 0644));
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("public key, it belongs in --peer-key or --allow"),
              std::string::npos)
        << e.what();
  }
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
Key from_hex(const std::string& hex) {
  Key k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::byte>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return k;
}

// The points of order 1, 2, 4 and 8 on Curve25519 (as libsodium's blocklist has them),
// and encodings that are not canonical.
TEST_F(KeyFiles, LowOrderAndNonCanonicalPublicKeysAreRefused) {
  const std::string ff30(60, 'f');
  for (const std::string& hex : std::vector<std::string>{
           std::string(64, '0'), "01" + std::string(62, '0'),
           "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
           "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
           "ec" + ff30 + "7f",                  // p - 1
           "ed" + ff30 + "7f",                  // p (non-canonical 0)
           "ee" + ff30 + "7f",                  // p + 1 (non-canonical 1)
           "09" + std::string(60, '0') + "80",  // the base point with the top bit set
       }) {
    Key k = from_hex(hex);
    EXPECT_THROW(check_public_key(k, "k"), KeyError) << hex;
    EXPECT_THROW(read_public_key(to_base64(k)), KeyError) << hex;
    EXPECT_THROW(parse_allow_list(to_base64(k) + "\n", "list"), KeyError) << hex;
  }
  EXPECT_NO_THROW(check_public_key(x25519_public(random_private_key()), "k"));
}

TEST_F(KeyFiles, MessagesNameTheKeyAndTheFault) {
  try {
    check_public_key(Key{}, "--peer-key");
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_EQ(std::string(e.what()), "--peer-key: all zeros, not a public key");
  }
  try {
    parse_allow_list("# c\n" + to_base64(from_hex("01" + std::string(62, '0'))), "allow.txt");
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_EQ(std::string(e.what()), "allow.txt:2: a low-order point, not a public key");
  }
}

// A directory opens and reads as nothing: it must be named as such, not reported as "not
// a key" or an empty allow-list.
TEST_F(KeyFiles, ADirectoryIsNamedAsOne) {
  auto message = [](auto read) {
    try {
      read();
    } catch (const KeyError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  chmod(dir.c_str(), 0700);
  EXPECT_EQ(message([&] { read_allow_file(dir); }),
            "allow file " + dir + " is a directory, not a file");
  EXPECT_EQ(message([&] { read_secret_key_file(dir); }),
            "key file " + dir + " is a directory, not a file");
  EXPECT_EQ(message([&] { read_public_key(dir); }),
            "key file " + dir + " is a directory, not a file");
}

TEST_F(KeyFiles, AllZeroSecretKeyIsRefused) {
  std::string path = write("zero.key", to_base64(Key{}) + "\n", 0600);
  EXPECT_THROW(read_secret_key_file(path), KeyError);
  std::string good = write("good.key", to_base64(random_private_key()) + "\n", 0600);
  EXPECT_NO_THROW(read_secret_key_file(good));
}

}  // namespace tund::crypto
