// Small string helpers shared by the parsers of config and key files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tund::util {

// `text` without leading and trailing spaces, tabs and line ends.
std::string trim(const std::string& text);

// `text` without a leading UTF-8 byte-order mark (U+FEFF, what Notepad writes at the start
// of a file): it is not part of the content.
std::string without_bom(const std::string& text);

// The length in bytes (1-4) of the well-formed UTF-8 sequence at s[i], or 0 when there is
// none (RFC 3629 section 4, Table 3-7 of the Unicode standard: no overlong forms, no
// surrogates, nothing above U+10FFFF, no sequence cut short by the end of `s`).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

}  // namespace tund::util
