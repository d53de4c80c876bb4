#include "tund/tunnel/allowed_ips.hpp"

#include <algorithm>
#include <tuple>

namespace tund::tunnel {
namespace {

// The splitmix64 finaliser: the keys are structured (zero host bits, shared network
// parts), so a plain xor of the words would cluster in a few buckets.
std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

// The top `length` bits of a 64-bit word set (0..64).
std::uint64_t top_bits(unsigned length) {
  return length == 0 ? 0 : ~std::uint64_t{0} << (64 - length);
}

bool prefix_less(const IpPrefix& a, const IpPrefix& b) {
  return std::tie(a.family, a.address, a.length) < std::tie(b.family, b.address, b.length);
}

}  // namespace

std::size_t AllowedIps::KeyHash::operator()(const Key& key) const {
  return static_cast<std::size_t>(mix(key.bits.hi ^ mix(key.bits.lo + key.length)));
}

AllowedIps::Bits AllowedIps::load(IpFamily family, util::ConstByteSpan address) {
  if (family == IpFamily::v4) return {std::uint64_t{util::load_be32(address.data())} << 32, 0};
  return {util::load_be64(address.data()), util::load_be64(address.data() + 8)};
}

AllowedIps::Bits AllowedIps::mask(Bits bits, unsigned length) {
  if (length <= 64) return {bits.hi & top_bits(length), 0};
  return {bits.hi, bits.lo & top_bits(length - 64)};
}

bool AllowedIps::insert(IpFamily family, util::ConstByteSpan address, unsigned length,
                        PeerId peer) {
  if (address.size() != address_size(family) || length > max_prefix_length(family)) {
    return false;
  }
  table(family).insert(mask(load(family, address), length), length, peer);
  return true;
}

std::size_t AllowedIps::remove_peer(PeerId peer) {
  return v4_.remove_peer(peer) + v6_.remove_peer(peer);
}

std::optional<PeerId> AllowedIps::lookup(IpFamily family, util::ConstByteSpan address) const {
  if (address.size() != address_size(family)) return std::nullopt;
  return table(family).lookup(load(family, address));
}

std::vector<IpPrefix> AllowedIps::prefixes_of(PeerId peer) const {
  std::vector<IpPrefix> out;
  v4_.collect(peer, out);
  v6_.collect(peer, out);
  // Hash order is arbitrary; callers log and diff these, so make the order stable.
  std::sort(out.begin(), out.end(), prefix_less);
  return out;
}

void AllowedIps::Family::insert(Bits bits, unsigned length, PeerId peer) {
  auto [it, added] = owners_.try_emplace(Key{bits, length}, peer);
  if (!added) {
    it->second = peer;  // same prefix, new owner
    return;
  }
  if (per_length_[length]++ == 0) refresh_lengths();
}

std::size_t AllowedIps::Family::remove_peer(PeerId peer) {
  std::size_t removed = 0;
  for (auto it = owners_.begin(); it != owners_.end();) {
    if (it->second != peer) {
      ++it;
      continue;
    }
    --per_length_[it->first.length];
    it = owners_.erase(it);
    ++removed;
  }
  if (removed) refresh_lengths();
  return removed;
}

std::optional<PeerId> AllowedIps::Family::lookup(Bits bits) const {
  for (std::uint8_t length : lengths_) {
    auto it = owners_.find(Key{mask(bits, length), length});
    if (it != owners_.end()) return it->second;
  }
  return std::nullopt;
}

void AllowedIps::Family::collect(PeerId peer, std::vector<IpPrefix>& out) const {
  for (const auto& [key, owner] : owners_) {
    if (owner != peer) continue;
    IpPrefix prefix{.family = family_, .address = {}, .length = key.length};
    util::store_be64(prefix.address.data(), key.bits.hi);
    util::store_be64(prefix.address.data() + 8, key.bits.lo);
    out.push_back(prefix);
  }
}

void AllowedIps::Family::refresh_lengths() {
  lengths_.clear();
  for (unsigned length = max_prefix_length(family_) + 1; length-- > 0;) {
    if (per_length_[length] != 0) lengths_.push_back(static_cast<std::uint8_t>(length));
  }
}

}  // namespace tund::tunnel
