// Adapts the I/O-free crypto::SecureSession to the transports' Security interface, giving
// it the clock. The only place where crypto and transport meet.
#pragma once

#include "tund/crypto/secure_session.hpp"
#include "tund/transport/security.hpp"

namespace tund::daemon {

class SecureChannel final : public transport::Security {
 public:
  explicit SecureChannel(crypto::SecureConfig config)
      : initiator_(config.initiator), session_(std::move(config)) {}

  bool initiator() const override { return initiator_; }
  bool ready() override { return session_.ready(now()); }
  std::size_t seal(std::byte* message, std::size_t frame_size) override;
  std::size_t header_size() const override;
  std::size_t overhead() const override;
  bool handshake_due() override { return session_.handshake_due(now()); }
  bool write_initiation(std::byte* out) override;
  std::size_t initiation_size() const override;
  transport::SecurityVerdict receive(std::byte* message, std::size_t size) override;
  void reset() override { session_.reset(); }
  std::string describe() override { return session_.cipher_name(); }

  const crypto::SessionStats& stats() const { return session_.stats(); }
  // SIGHUP: see crypto::SecureSession::update_peer_keys (throws crypto::KeyError).
  void update_peer_keys(std::optional<crypto::Key> peer_public, std::vector<crypto::Key> allowed,
                        std::optional<crypto::Key> psk) {
    session_.update_peer_keys(peer_public, std::move(allowed), psk);
  }

 private:
  static transport::SecurityVerdict translate(crypto::Verdict v);
  static crypto::Time now() { return crypto::Clock::now(); }

  bool initiator_;
  crypto::SecureSession session_;
};

}  // namespace tund::daemon
