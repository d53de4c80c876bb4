// The cipher score from measured speeds (crypto/cipher_speed.hpp): the mapping, its limits
// and bad input; the measurement's shape with a clock that makes every round alike. No
// timing is judged: the machine's real speeds only show in the log line.
#include "tund/crypto/cipher_speed.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tund/crypto/cipher_choice.hpp"
#include "tund/crypto/primitives.hpp"

namespace tund::crypto {
namespace {

TEST(CipherScore, SixteenPerDoublingOfTheRatio) {
  EXPECT_EQ(score_from_speeds(1e9, 1e9), 0);
  EXPECT_EQ(score_from_speeds(2e9, 1e9), 16);
  EXPECT_EQ(score_from_speeds(1e9, 2e9), -16);
  EXPECT_EQ(score_from_speeds(4e9, 1e9), 32);
  EXPECT_EQ(score_from_speeds(1.3e9, 1e9), 6);   // 16 * log2(1.3) = 6.06
  EXPECT_EQ(score_from_speeds(1e9, 1.3e9), -6);  // symmetric
}

TEST(CipherScore, SpeedsWithinAboutTwoPercentScoreZero) {
  EXPECT_EQ(score_from_speeds(1.02e9, 1e9), 0);  // 0.46: noise, no preference
  EXPECT_EQ(score_from_speeds(1e9, 1.02e9), 0);
  EXPECT_EQ(score_from_speeds(1.03e9, 1e9), 1);  // 0.68
  EXPECT_EQ(score_from_speeds(1e9, 1.03e9), -1);
}

TEST(CipherScore, ClampedShortOfAForcedChoice) {
  EXPECT_EQ(score_from_speeds(1e12, 1e9), kMaxMeasuredScore);
  EXPECT_EQ(score_from_speeds(1e9, 1e12), -kMaxMeasuredScore);
  EXPECT_LT(kMaxMeasuredScore, kMaxCipherScore);
}

TEST(CipherScore, NothingMeasuredIsNoPreference) {
  double inf = std::numeric_limits<double>::infinity();
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(score_from_speeds(0, 1e9), 0) << "AES not available";
  EXPECT_EQ(score_from_speeds(1e9, 0), 0);
  EXPECT_EQ(score_from_speeds(-1, 1e9), 0);
  EXPECT_EQ(score_from_speeds(inf, 1e9), 0);
  EXPECT_EQ(score_from_speeds(1e9, nan), 0);
  EXPECT_EQ(score_from_speeds(nan, nan), 0);
}

// Every reading is one microsecond after the last: every round takes 1 us, whatever it
// did, so both ciphers come out at the same rate.
class TickingClock final : public util::Clock {
 public:
  time_point now() const override {
    now_ += std::chrono::microseconds(1);
    return now_;
  }
  mutable time_point now_{};
};

TEST(CipherMeasurement, RatesComeFromTheFastestRoundOfFramesOfTheGivenSize) {
  init_sodium();
  TickingClock clock;
  CipherSpeed speed = measure_cipher_speed(1400, aes256gcm_available(), clock);
  EXPECT_GT(speed.chacha_bytes_per_second, 0);
  if (aes256gcm_available()) {
    EXPECT_DOUBLE_EQ(speed.aes_bytes_per_second, speed.chacha_bytes_per_second);
  }
  EXPECT_EQ(speed.score, 0) << "equal rates";
  // A round is a whole number of 1400-byte frames in 1 us.
  double frames = speed.chacha_bytes_per_second * 1e-6 / 1400;
  EXPECT_NEAR(frames, std::round(frames), 1e-6);
  EXPECT_GE(frames, 1);
}

TEST(CipherMeasurement, WithoutAesOnlyChachaIsMeasured) {
  init_sodium();
  CipherSpeed speed = measure_cipher_speed(1400, false, util::steady_clock());
  EXPECT_EQ(speed.aes_bytes_per_second, 0);
  EXPECT_GT(speed.chacha_bytes_per_second, 0);
  EXPECT_EQ(speed.score, 0);
  EXPECT_EQ(describe(speed).rfind("aes-256-gcm not available, chacha20-poly1305 ", 0), 0u)
      << describe(speed);
}

TEST(CipherMeasurement, TheRealClockGivesAScoreConsistentWithTheRates) {
  init_sodium();
  CipherSpeed speed = measure_cipher_speed(1400, aes256gcm_available(), util::steady_clock());
  EXPECT_EQ(speed.score,
            score_from_speeds(speed.aes_bytes_per_second, speed.chacha_bytes_per_second));
  EXPECT_GE(speed.score, -kMaxMeasuredScore);
  EXPECT_LE(speed.score, kMaxMeasuredScore);
}

TEST(CipherMeasurement, TheLogLineNamesBothRatesAndTheScore) {
  CipherSpeed speed{1.52e9, 0.98e9, 10};
  EXPECT_EQ(describe(speed), "aes-256-gcm 1.52 GB/s, chacha20-poly1305 0.98 GB/s, score 10");
}

}  // namespace
}  // namespace tund::crypto
