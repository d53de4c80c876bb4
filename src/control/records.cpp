// The record layer of the control protocol (docs/CONTROL.md, "Lines and records"): lines
// "name = value", a blank line between records, values escaped so that any byte string
// fits on one line.
#include "tund/control/records.hpp"

#include <cstdio>

#include "text.hpp"

namespace tund::control {
namespace {

using detail::quoted;

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::size_t line_no, const std::string& what) {
  throw ProtocolError(detail::concat("line ", std::to_string(line_no), ": ", what));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of an escaped field: "\\" is a backslash, "\xNN" the byte NN; nothing else
// may follow a backslash (so every value has one meaning).
std::string unescape(std::string_view raw, std::size_t line_no) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
    } else if (i + 1 < raw.size() && raw[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (i + 3 < raw.size() && raw[i + 1] == 'x' && hex_digit(raw[i + 2]) >= 0 &&
               hex_digit(raw[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(raw[i + 2]) * 16 + hex_digit(raw[i + 3]));
      i += 3;
    } else {
      fail(line_no, detail::concat("a backslash not followed by '\\' or 'xNN' in ", quoted(raw)));
    }
  }
  return out;
}

// A backslash, a control byte, and a space at either end (which parsing would trim) are
// escaped; everything else is written as it is.
std::string escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
    if (c == '\\') {
      out += "\\\\";
    } else if (is_control(c) || edge_space) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += value[i];
    }
  }
  return out;
}

void check_no_control(std::string_view line, std::size_t line_no) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (!is_control(c)) continue;
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(c));
    fail(line_no,
         detail::concat("a control character (", buf, ") at column ", std::to_string(i + 1)));
  }
}

std::pair<std::string, std::string> parse_line(std::string_view line, std::size_t line_no) {
  check_no_control(line, line_no);
  auto eq = line.find('=');
  if (eq == std::string_view::npos) fail(line_no, detail::concat("no '=' in ", quoted(line)));
  auto name = trim_spaces(line.substr(0, eq));
  if (!valid_name(name))
    fail(line_no, detail::concat("invalid name ", quoted(name),
                                 " (lower-case letters, digits, '_', '.', '-')"));
  return {std::string(name), unescape(trim_spaces(line.substr(eq + 1)), line_no)};
}

}  // namespace

void detail::check_protocol(std::string_view value) {
  if (value != std::to_string(kProtocolVersion))
    throw ProtocolError(detail::concat("control protocol ", quoted(value),
                                       " is not supported (this tund speaks ",
                                       std::to_string(kProtocolVersion), ")"));
}

const std::string* Record::find(std::string_view name) const {
  for (const auto& field : fields)
    if (field.first == name) return &field.second;
  return nullptr;
}

std::vector<Record> parse_records(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    throw ProtocolError(detail::concat(std::to_string(text.size()), " bytes, over the limit of ",
                                       std::to_string(max_bytes)));
  std::vector<Record> records;
  Record current;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF: as LF
    if (trim_spaces(line).empty()) {
      if (!current.fields.empty()) records.push_back(std::move(current));
      current = {};
      continue;
    }
    current.fields.push_back(parse_line(line, line_no));
  }
  if (!current.fields.empty()) records.push_back(std::move(current));
  return records;
}

std::string encode_records(const std::vector<Record>& records) {
  std::string out;
  for (const auto& record : records) {
    if (record.fields.empty()) throw ProtocolError("an empty record cannot be written");
    for (const auto& [name, value] : record.fields) {
      if (!valid_name(name))
        throw ProtocolError(
            detail::concat("invalid field name ", quoted(name), " cannot be written"));
      out += name;
      out += " = ";
      out += escape(value);
      out += '\n';
    }
    out += '\n';
  }
  return out;
}

}  // namespace tund::control
