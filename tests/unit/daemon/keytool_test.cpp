// The key commands' own usage: --help, and arguments they do not take.
#include "tund/daemon/keytool.hpp"

#include <gtest/gtest.h>

namespace tund::daemon {
namespace {

TEST(KeyTool, RecognisesOnlyTheKeyCommands) {
  for (const char* word : {"genkey", "pubkey", "genpsk"}) EXPECT_TRUE(is_key_command(word));
  for (const char* word : {"", "-s", "genkeys", "GENKEY", "help"})
    EXPECT_FALSE(is_key_command(word));
}

TEST(KeyTool, AloneItRuns) {
  for (const char* word : {"genkey", "pubkey", "genpsk"})
    EXPECT_FALSE(key_command_usage({word})) << word;
}

TEST(KeyTool, HelpIsItsOwnUsageOnStdout) {
  for (const char* flag : {"--help", "-h"}) {
    auto exit = key_command_usage({"pubkey", flag});
    ASSERT_TRUE(exit);
    EXPECT_EQ(exit->status, 0);
    EXPECT_EQ(exit->output.rfind("usage: tund pubkey < PRIVATE_KEY_FILE", 0), 0u) << exit->output;
  }
  EXPECT_EQ(key_command_usage({"genkey", "--help"})->output.rfind("usage: tund genkey > ", 0), 0u);
  EXPECT_EQ(key_command_usage({"genpsk", "--help"})->output.rfind("usage: tund genpsk > ", 0), 0u);
}

TEST(KeyTool, ArgumentsAreUsageErrorsOnOneLine) {
  auto exit = key_command_usage({"pubkey", "s.key"});
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->status, 2);
  EXPECT_EQ(exit->output,
            "tund: error: pubkey reads the private key on standard input, not from 's.key'; "
            "usage: tund pubkey < PRIVATE_KEY_FILE > PUBLIC_KEY_FILE\n");
  exit = key_command_usage({"genkey", "extra"});
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->status, 2);
  EXPECT_EQ(exit->output,
            "tund: error: genkey takes no arguments ('extra' given); usage: tund genkey > "
            "PRIVATE_KEY_FILE\n");
  EXPECT_EQ(key_command_usage({"genpsk", "--help", "x"})->status, 2);
  EXPECT_EQ(key_command_usage({"genpsk", "-s"})->status, 2);
}

}  // namespace
}  // namespace tund::daemon
