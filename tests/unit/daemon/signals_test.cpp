// Signals held from main()'s first instruction are delivered once the dispatcher is in
// place, to the right handler, and never by their default action.
#include "tund/daemon/signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace tund::daemon {
namespace {

struct Signals : ::testing::Test {
  sigset_t saved;
  void SetUp() override { sigprocmask(SIG_SETMASK, nullptr, &saved); }
  void TearDown() override { sigprocmask(SIG_SETMASK, &saved, nullptr); }
};

TEST_F(Signals, HeldDuringStartUpThenDeliveredToTheirHandlers) {
  block_daemon_signals();
  std::raise(SIGHUP);  // would end the process by its default action if not held
  std::raise(SIGTERM);
  asio::io_context io;
  std::vector<int> stops, reloads;
  SignalDispatcher dispatcher(
      io, [&](int s) { stops.push_back(s); }, [&](int s) { reloads.push_back(s); }, [](int) {});
  EXPECT_FALSE(dispatcher.stop_requested());
  for (int i = 0; i < 50 && (stops.empty() || reloads.empty()); ++i)
    io.run_one_for(std::chrono::milliseconds(20));
  EXPECT_EQ(reloads, std::vector<int>{SIGHUP});
  EXPECT_EQ(stops, std::vector<int>{SIGTERM});
  EXPECT_TRUE(dispatcher.stop_requested());
  EXPECT_EQ(dispatcher.stop_signal(), SIGTERM);
  std::raise(SIGINT);  // a later one is passed on too; the first stays the reason
  for (int i = 0; i < 50 && stops.size() < 2; ++i) io.run_one_for(std::chrono::milliseconds(20));
  EXPECT_EQ(stops, (std::vector<int>{SIGTERM, SIGINT}));
  EXPECT_EQ(dispatcher.stop_signal(), SIGTERM);
}

TEST(SignalNames, AreTheUsualOnes) {
  EXPECT_STREQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_STREQ(signal_name(SIGHUP), "SIGHUP");
}

}  // namespace
}  // namespace tund::daemon
