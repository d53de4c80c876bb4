#include "tund/util/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tund::util {
namespace {

std::string decoded(std::string_view text) {
  auto bytes = decode_base64(text);
  return bytes ? std::string(bytes->begin(), bytes->end()) : "nullopt";
}

TEST(Base64, Rfc4648Vectors) {  // RFC 4648 section 10
  EXPECT_EQ(decoded(""), "");
  EXPECT_EQ(decoded("Zg=="), "f");
  EXPECT_EQ(decoded("Zm8="), "fo");
  EXPECT_EQ(decoded("Zm9v"), "foo");
  EXPECT_EQ(decoded("Zm9vYg=="), "foob");
  EXPECT_EQ(decoded("Zm9vYmE="), "fooba");
  EXPECT_EQ(decoded("Zm9vYmFy"), "foobar");
}

TEST(Base64, AThirtyTwoByteKey) {
  auto key = decode_base64("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ((*key)[0], 0x1c);
  EXPECT_EQ((*key)[31], 0x4c);
  auto all = decode_base64("+/+/");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::vector<std::uint8_t>{0xfb, 0xff, 0xbf}));
}

TEST(Base64, RefusesMalformedText) {
  for (const char* text : {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v=", "Zm 9v", " Zm9v",
                           "Zm9v\n", "Zm-_", "Zg==Zg==", "Z=g=", "Zm9\xc3\xa9"})
    EXPECT_FALSE(decode_base64(text)) << text;
}

TEST(Base64, RefusesNonCanonicalPaddingBits) {
  EXPECT_FALSE(decode_base64("Zh=="));  // 'h' leaves a 1 in the unused bits
  EXPECT_FALSE(decode_base64("Zm9="));
  EXPECT_TRUE(decode_base64("Zg=="));
}

}  // namespace
}  // namespace tund::util
