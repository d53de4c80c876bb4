#include "tund/crypto/noise.hpp"

#include <algorithm>
#include <stdexcept>

namespace tund::crypto {
namespace {

Key truncate(const Hash& h) {
  Key k;
  std::copy_n(h.begin(), kKeySize, k.begin());
  return k;
}

}  // namespace

std::string protocol_name(bool psk2, Aead aead) {
  return std::string("Noise_") + (psk2 ? "IKpsk2" : "IK") + "_25519_" +
         (aead == Aead::aes256gcm ? "AESGCM" : "ChaChaPoly") + "_BLAKE2b";
}

// ---- CipherState ------------------------------------------------------------------------

void CipherState::encrypt_with_ad(Bytes ad, Bytes plaintext, std::vector<std::byte>& out) {
  std::size_t at = out.size();
  if (!has_key_) {
    out.insert(out.end(), plaintext.begin(), plaintext.end());
    return;
  }
  out.resize(at + plaintext.size() + kTagSize);
  std::copy(plaintext.begin(), plaintext.end(), out.begin() + static_cast<long>(at));
  aead_seal(aead_, key_, n_++, ad, Bytes(out.data() + at, plaintext.size()), out.data() + at);
}

bool CipherState::decrypt_with_ad(Bytes ad, Bytes ciphertext, std::vector<std::byte>& out) {
  if (!has_key_) {
    out.assign(ciphertext.begin(), ciphertext.end());
    return true;
  }
  if (ciphertext.size() < kTagSize) return false;
  out.resize(ciphertext.size() - kTagSize);
  if (!aead_open(aead_, key_, n_, ad, ciphertext, out.data())) return false;
  ++n_;
  return true;
}

// ---- SymmetricState (folded into Handshake) ---------------------------------------------

Handshake::Handshake(const HandshakeSettings& settings) : settings_(settings) {
  if (settings_.initiator && !settings_.remote_static)
    throw HandshakeError("IK initiator needs the responder's static key");
  if (settings_.initiator && settings_.psk2 && !settings_.psk)
    throw HandshakeError("IKpsk2 needs a psk");
  s_pub_ =
      settings_.static_public ? *settings_.static_public : x25519_public(settings_.static_private);
  initialize(settings_.psk2);
}

// InitializeSymmetric(protocol name), the prologue and the pre-message "<- s".
void Handshake::initialize(bool psk2) {
  settings_.psk2 = psk2;
  std::string name = protocol_name(psk2, settings_.aead);
  // A name of at most HASHLEN bytes is used as h, zero-padded.
  Bytes name_bytes = util::as_bytes(name.data(), name.size());
  if (name.size() <= kHashSize) {
    h_.fill(std::byte{0});
    std::copy(name_bytes.begin(), name_bytes.end(), h_.begin());
  } else {
    h_ = blake2b(name_bytes);
  }
  ck_ = h_;
  cipher_ = CipherState();
  mix_hash(settings_.prologue);
  // Pre-message "<- s": both sides hash the responder's static public key.
  mix_hash(settings_.initiator ? *settings_.remote_static : s_pub_);
}

void Handshake::set_psk(const Key& psk) {
  if (settings_.psk) wipe(settings_.psk->data(), kKeySize);
  settings_.psk = psk;
}

Handshake::~Handshake() {
  wipe(ck_.data(), ck_.size());
  wipe(e_.data(), e_.size());
  wipe(settings_.static_private.data(), kKeySize);
  if (settings_.psk) wipe(settings_.psk->data(), kKeySize);
}

void Handshake::mix_hash(Bytes data) {
  h_ = blake2b(h_, data);
}

void Handshake::mix_key(Bytes ikm) {
  Hash temp_k;
  hkdf(ck_, ikm, &ck_, &temp_k, nullptr);
  cipher_ = CipherState(settings_.aead, truncate(temp_k));
  wipe(temp_k.data(), temp_k.size());
}

void Handshake::mix_key_and_hash(Bytes ikm) {
  Hash temp_h, temp_k;
  hkdf(ck_, ikm, &ck_, &temp_h, &temp_k);
  mix_hash(temp_h);
  cipher_ = CipherState(settings_.aead, truncate(temp_k));
  wipe(temp_k.data(), temp_k.size());
}

bool Handshake::mix_dh(const Key& priv, const Key& pub) {
  Key shared;
  bool ok = x25519(shared, priv, pub);
  if (ok) mix_key(shared);
  wipe(shared.data(), shared.size());
  return ok;
}

void Handshake::encrypt_and_hash(Bytes plaintext, std::vector<std::byte>& out) {
  std::size_t at = out.size();
  cipher_.encrypt_with_ad(h_, plaintext, out);
  mix_hash(Bytes(out.data() + at, out.size() - at));
}

bool Handshake::decrypt_and_hash(Bytes ciphertext, std::vector<std::byte>& out) {
  if (!cipher_.decrypt_with_ad(h_, ciphertext, out)) return false;
  mix_hash(ciphertext);
  return true;
}

// "e": send a fresh ephemeral key; psk handshakes also mix it into the key.
void Handshake::write_ephemeral(std::vector<std::byte>& out) {
  e_ = settings_.ephemeral_private ? *settings_.ephemeral_private : random_private_key();
  e_pub_ = x25519_public(e_);
  out.insert(out.end(), e_pub_.begin(), e_pub_.end());
  mix_hash(e_pub_);
  if (settings_.psk2) mix_key(e_pub_);
}

bool Handshake::read_ephemeral(Bytes& message) {
  if (message.size() < kKeySize) return false;
  std::copy_n(message.begin(), kKeySize, re_.begin());
  message = message.subspan(kKeySize);
  mix_hash(re_);
  if (settings_.psk2) mix_key(re_);
  return true;
}

// ---- the IK messages ----------------------------------------------------------------------

std::vector<std::byte> Handshake::write_message(Bytes payload) {
  std::vector<std::byte> out;
  const Key& rs = settings_.initiator ? *settings_.remote_static : rs_;
  if (settings_.initiator && step_ == 0) {  // -> e, es, s, ss
    write_ephemeral(out);
    if (!mix_dh(e_, rs)) throw HandshakeError("responder static key is of low order");
    encrypt_and_hash(s_pub_, out);
    if (!mix_dh(settings_.static_private, rs)) throw HandshakeError("low-order key");
  } else if (!settings_.initiator && step_ == 1) {  // <- e, ee, se[, psk]
    // read_message already refused low-order re and rs, so these cannot fail.
    write_ephemeral(out);
    if (!mix_dh(e_, re_) || !mix_dh(e_, rs_)) throw HandshakeError("low-order key");
    if (settings_.psk2 && !settings_.psk) throw HandshakeError("IKpsk2 needs a psk");
    if (settings_.psk2) mix_key_and_hash(*settings_.psk);
  } else {
    throw HandshakeError("Noise IK: write_message out of turn");
  }
  encrypt_and_hash(payload, out);
  ++step_;
  return out;
}

std::optional<std::vector<std::byte>> Handshake::read_message(Bytes message) {
  std::vector<std::byte> payload;
  if (!settings_.initiator && step_ == 0) {  // -> e, es, s, ss
    std::vector<std::byte> s;
    if (!read_first(message, s)) return std::nullopt;
    std::copy_n(s.begin(), kKeySize, rs_.begin());
    if (!mix_dh(settings_.static_private, rs_)) return refuse("low-order static key");
  } else if (settings_.initiator && step_ == 1) {  // <- e, ee, se[, psk]
    if (!read_ephemeral(message)) return std::nullopt;
    if (!mix_dh(e_, re_) || !mix_dh(settings_.static_private, re_))
      return refuse("low-order ephemeral key");
    if (settings_.psk2) mix_key_and_hash(*settings_.psk);
  } else {
    return std::nullopt;
  }
  if (!decrypt_and_hash(message, payload)) return std::nullopt;
  ++step_;
  return payload;
}

// Responder, message 1 up to the initiator's static key: "e, es, s". The DH is computed
// once; with psk2_either the other mode is tried from a fresh start when the first one's
// static key does not authenticate.
bool Handshake::read_first(Bytes& message, std::vector<std::byte>& s) {
  if (message.size() < kKeySize + kKeySize + kTagSize) return false;
  std::copy_n(message.begin(), kKeySize, re_.begin());
  message = message.subspan(kKeySize);
  Key es;
  if (!x25519(es, settings_.static_private, re_)) {
    fault_ = "low-order ephemeral key";
    return false;
  }
  bool ok = read_e_es_s(message, es, s);
  if (!ok && settings_.psk2_either) {
    initialize(!settings_.psk2);
    ok = read_e_es_s(message, es, s);
  }
  wipe(es.data(), es.size());
  if (ok) message = message.subspan(kKeySize + kTagSize);
  return ok;
}

bool Handshake::read_e_es_s(Bytes message, const Key& es, std::vector<std::byte>& s) {
  mix_hash(re_);
  if (settings_.psk2) mix_key(re_);
  mix_key(es);
  return decrypt_and_hash(message.first(kKeySize + kTagSize), s);
}

std::nullopt_t Handshake::refuse(const char* why) {
  fault_ = why;
  return std::nullopt;
}

std::pair<CipherState, CipherState> Handshake::split() const {
  Hash k1, k2;
  hkdf(ck_, {}, &k1, &k2, nullptr);
  std::pair<CipherState, CipherState> out{CipherState(settings_.aead, truncate(k1)),
                                          CipherState(settings_.aead, truncate(k2))};
  wipe(k1.data(), k1.size());
  wipe(k2.data(), k2.size());
  return out;
}

}  // namespace tund::crypto
