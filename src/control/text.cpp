#include "text.hpp"

#include <cstdio>

#include "tund/util/strings.hpp"

namespace tund::control::detail {
namespace {

void append_hex_escape(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
  out += buf;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// U+0080..U+009F, the C1 controls, which some terminals act on even in UTF-8.
bool is_c1(std::string_view text, std::size_t i, std::size_t length) {
  return length == 2 && static_cast<unsigned char>(text[i]) == 0xc2 &&
         static_cast<unsigned char>(text[i + 1]) < 0xa0;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : util::utf8_sequence_length(text, i);
    if (length == 0 || is_control(c) || c == '\\') {
      append_hex_escape(out, c);
      ++i;
      continue;
    }
    if (is_c1(text, i, length)) {
      append_hex_escape(out, c);
      append_hex_escape(out, static_cast<unsigned char>(text[i + 1]));
      i += 2;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string shown = printable(text.substr(0, kMax));
  if (text.size() > kMax) shown += "...";
  return concat("'", shown, "'");
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = util::utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD replacement character
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::uint64_t sum(const Counters& counters) {
  std::uint64_t total = 0;
  for (const auto& [name, value] : counters) total += value;
  return total;
}

std::uint64_t total_rx_bytes(const InterfaceStatus& status) {
  std::uint64_t total = 0;
  for (const auto& peer : status.peers) total += peer.rx_bytes;
  return total;
}

std::uint64_t total_tx_bytes(const InterfaceStatus& status) {
  std::uint64_t total = 0;
  for (const auto& peer : status.peers) total += peer.tx_bytes;
  return total;
}

}  // namespace tund::control::detail
