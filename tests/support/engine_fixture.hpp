// What the in-memory engine tests share: an io_context, a manual clock, a captured log
// (printed when a test fails, so a failure shows what the engines did), and running the
// event loop and the engines' timers as time passes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "support/engine_harness.hpp"
#include "support/manual_clock.hpp"

namespace tund::testing {

class EngineFixture : public ::testing::Test {
 protected:
  asio::io_context io;
  ManualClock clock;
  std::vector<std::string> lines;
  util::Logger log{util::LogLevel::info,
                   [this](util::LogLevel, std::string_view text) { lines.emplace_back(text); }};
  std::vector<tunnel::Engine*> ticking;  // the engines whose timers pass() drives

  void poll() {
    io.restart();
    io.poll();
  }
  // Time passes in steps of `step`, with every timer tick and message on the way.
  void pass(std::chrono::milliseconds total,
            std::chrono::milliseconds step = std::chrono::milliseconds(250)) {
    for (auto t = std::chrono::milliseconds(0); t < total; t += step) {
      clock.advance(step);
      for (auto* engine : ticking) engine->on_timer();
      poll();
    }
  }
  std::size_t lines_with(const std::string& text) const {
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](auto& l) { return l.find(text) != std::string::npos; }));
  }
  void TearDown() override {
    if (HasFailure())
      for (const auto& line : lines) std::printf("  log: %s\n", line.c_str());
  }
};

}  // namespace tund::testing
