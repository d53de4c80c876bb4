// Helpers the control module's parsers and renderers share (private to src/control).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tund/control/status.hpp"

namespace tund::control::detail {

// The parts appended in order (not "literal" + std::string: GCC 12 -O3 warns falsely).
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

// `text` safe to print on one line of a terminal or a tab-separated file: control bytes
// (below 0x20, and 0x7f), a backslash and bytes that are not well-formed UTF-8 become
// "\xNN" escapes, so a hostile or odd name can neither move the cursor nor split a line
// or a column. Well-formed UTF-8 passes unchanged.
std::string printable(std::string_view text);
// `text` printable (above), cut short after 60 bytes, in single quotes: for error messages.
std::string quoted(std::string_view text);
// `text` as well-formed UTF-8: each byte that is not part of a well-formed sequence
// becomes U+FFFD (JSON and the Prometheus format both require UTF-8).
std::string valid_utf8(std::string_view text);

// Throws ProtocolError unless `value` is this tund's control protocol version ("1").
void check_protocol(std::string_view value);

// The sum of a counter group (a peer's drops, in the dump's column).
std::uint64_t sum(const Counters& counters);
// The sums of the peers' frame bytes received and sent.
std::uint64_t total_rx_bytes(const InterfaceStatus& status);
std::uint64_t total_tx_bytes(const InterfaceStatus& status);

}  // namespace tund::control::detail
