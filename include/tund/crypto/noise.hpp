// The Noise IK and IKpsk2 handshakes (Noise spec rev 34, sections 5 and 9) over
// 25519 / ChaChaPoly or AESGCM / BLAKE2b. Pure computation: bytes in, bytes out.
//
//   IK:      <- s          IKpsk2:  <- s
//            ...                    ...
//            -> e, es, s, ss        -> e, es, s, ss
//            <- e, ee, se           <- e, ee, se, psk
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tund/crypto/primitives.hpp"

namespace tund::crypto {

// Noise CipherState: a key and a 64-bit nonce.
class CipherState {
 public:
  CipherState() = default;
  CipherState(Aead aead, const Key& key) : aead_(aead), key_(key), has_key_(true) {}
  ~CipherState() { wipe(key_.data(), key_.size()); }
  CipherState(const CipherState&) = default;
  CipherState& operator=(const CipherState&) = default;

  bool has_key() const { return has_key_; }
  const Key& key() const { return key_; }
  std::uint64_t nonce() const { return n_; }
  // Appends ENCRYPT(k, n++, ad, plaintext) (or the plaintext itself without a key) to out.
  void encrypt_with_ad(Bytes ad, Bytes plaintext, std::vector<std::byte>& out);
  // Decrypts into out; false if authentication fails (n is then not advanced).
  bool decrypt_with_ad(Bytes ad, Bytes ciphertext, std::vector<std::byte>& out);

 private:
  Aead aead_ = Aead::chacha20poly1305;
  Key key_{};
  bool has_key_ = false;
  std::uint64_t n_ = 0;
};

struct HandshakeSettings {
  bool initiator = true;
  bool psk2 = false;  // IKpsk2 instead of IK
  // Responder: message 1 is read as IKpsk2 or IK, whichever authenticates (psk2 first when
  // set). IKpsk2's message 1 does not depend on the psk, only on the protocol name and the
  // mixed-in ephemeral, so a hub can read it before it knows the client (and its per-peer
  // psk); the psk is then given with set_psk() before write_message(). Costs one HKDF and
  // one AEAD tag check more for the second mode, not another DH.
  bool psk2_either = false;
  Aead aead = Aead::chacha20poly1305;
  Key static_private{};
  std::optional<Key> remote_static;  // the responder's key; required for the initiator
  std::optional<Key> psk;            // required when psk2 (responder: by write_message)
  std::vector<std::byte> prologue;
  std::optional<Key> ephemeral_private;  // tests only: a fixed ephemeral key
  // The public key of static_private, when the caller has it (an Identity does: saves an
  // X25519 per handshake); tests also use it to claim another key (a forged peer).
  std::optional<Key> static_public;
};

std::string protocol_name(bool psk2, Aead aead);

class Handshake {
 public:
  explicit Handshake(const HandshakeSettings& settings);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // Initiator: -> e, es, s, ss + payload. Responder: <- e, ee, se[, psk] + payload.
  // Throws HandshakeError when called out of turn or when the configured remote static
  // key is of low order (callers check keys at start-up: crypto/keys.hpp).
  std::vector<std::byte> write_message(Bytes payload);
  // Returns the payload, or nothing if the message is malformed or fails authentication;
  // never throws for anything in `message`. fault() then says why, when it is a low-order
  // key (which is refused, RFC 7748 section 6.1).
  std::optional<std::vector<std::byte>> read_message(Bytes message);
  // Empty, or "low-order ephemeral key" / "low-order static key" after a refused message.
  const std::string& fault() const { return fault_; }

  // After both messages: (initiator->responder, responder->initiator) cipher states.
  std::pair<CipherState, CipherState> split() const;
  const Hash& handshake_hash() const { return h_; }
  // Responder: the initiator's static public key, known after read_message succeeded.
  const Key& remote_static() const { return rs_; }
  // IKpsk2 (after a psk2_either read: the mode message 1 authenticated in).
  bool psk2() const { return settings_.psk2; }
  // Responder, before write_message: the psk of an IKpsk2 handshake.
  void set_psk(const Key& psk);

 private:
  void initialize(bool psk2);
  bool read_first(Bytes& message, std::vector<std::byte>& s);
  bool read_e_es_s(Bytes message, const Key& es, std::vector<std::byte>& s);
  void mix_hash(Bytes data);
  void mix_key(Bytes ikm);
  void mix_key_and_hash(Bytes ikm);
  bool mix_dh(const Key& priv, const Key& pub);
  void encrypt_and_hash(Bytes plaintext, std::vector<std::byte>& out);
  bool decrypt_and_hash(Bytes ciphertext, std::vector<std::byte>& out);
  void write_ephemeral(std::vector<std::byte>& out);
  bool read_ephemeral(Bytes& message);
  std::nullopt_t refuse(const char* why);

  HandshakeSettings settings_;
  Hash ck_{}, h_{};
  CipherState cipher_;
  Key e_{}, e_pub_{}, s_pub_{}, rs_{}, re_{};
  int step_ = 0;  // messages processed so far
  std::string fault_;
};

class HandshakeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tund::crypto
