#include "tund/config/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tund/config/checks.hpp"
#include "tund/config/config.hpp"
#include "tund/util/strings.hpp"

namespace tund::config {
namespace {

using util::trim;

constexpr std::size_t kMaxFileSize = 1 << 20;  // a config file is a few hundred bytes
const std::string kBom = "\xEF\xBB\xBF";       // U+FEFF in UTF-8

// Length of the UTF-8 sequence at `i` (RFC 3629 section 4: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when it is not valid UTF-8.
std::size_t utf8_length(const std::string& s, std::size_t i) {
  auto byte = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  auto cont = [&](std::size_t k) { return (byte(k) & 0xC0) == 0x80; };
  unsigned b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return byte(i + 1) >= lo && byte(i + 1) <= hi && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return byte(i + 1) >= lo && byte(i + 1) <= hi && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// Characters that look like nothing, or like a plain space, but are not one: a name or
// value holding one fails in a way the reader cannot see.
const char* invisible_name(const std::string& s, std::size_t i, std::size_t length) {
  static const std::pair<const char*, const char*> kInvisible[] = {
      {"\xC2\xA0", "U+00A0 no-break space"},
      {"\xE2\x80\x8B", "U+200B zero-width space"},
      {"\xE2\x80\x8C", "U+200C zero-width non-joiner"},
      {"\xE2\x80\x8D", "U+200D zero-width joiner"},
      {"\xE2\x80\x8E", "U+200E left-to-right mark"},
      {"\xE2\x80\x8F", "U+200F right-to-left mark"},
      {"\xE2\x80\xAF", "U+202F narrow no-break space"},
      {"\xE2\x81\xA0", "U+2060 word joiner"},
      {"\xE2\x80\xA8", "U+2028 line separator"},
      {"\xEF\xBB\xBF", "U+FEFF byte-order mark"}};
  for (const auto& [bytes, name] : kInvisible)
    if (s.compare(i, length, bytes) == 0 && std::strlen(bytes) == length) return name;
  return nullptr;
}

// The whole line must be UTF-8 text: no NUL byte (UTF-16 or a binary file), no control
// character but a tab, nothing invisible. Comments included: a file that is not text is
// better refused at its first odd line than half-read.
void check_text(const std::string& line, const std::string& where) {
  std::size_t column = 1;
  for (std::size_t i = 0; i < line.size(); ++column) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == 0)
      throw ConfigFileError(where +
                            ": a NUL byte (not a text file? UTF-16 must be saved as UTF-8)");
    if (c == '\r' && i + 1 == line.size()) break;  // CRLF line end
    if (c == '\r')
      throw ConfigFileError(where + ": a carriage return inside the line (save with LF line ends)");
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      throw ConfigFileError(where + ": a control character (" + hex + ") at column " +
                            std::to_string(column));
    }
    std::size_t length = utf8_length(line, i);
    if (length == 0)
      throw ConfigFileError(where + ": not valid UTF-8 at column " + std::to_string(column) +
                            " (save the file as UTF-8)");
    if (const char* name = invisible_name(line, i, length))
      throw ConfigFileError(where + ": an invisible character (" + name + ") at column " +
                            std::to_string(column) + "; retype the line");
    i += length;
  }
}

// A value may be quoted ("..." or '...'); a '#' outside quotes starts a comment.
std::string value_of(const std::string& raw, const std::string& where) {
  std::string v = trim(raw);
  // A word processor's quotes would become part of the value (a shell command, a path).
  for (const char* curly : {"\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x98", "\xE2\x80\x99"})
    if (v.rfind(curly, 0) == 0)
      throw ConfigFileError(where + ": a typographic quote (" + curly + "); quote with \" or '");
  if (!v.empty() && (v[0] == '"' || v[0] == '\'')) {
    auto close = v.find(v[0], 1);
    if (close == std::string::npos) throw ConfigFileError(where + ": unterminated quote");
    std::string rest = trim(v.substr(close + 1));
    if (!rest.empty() && rest[0] != '#')
      throw ConfigFileError(where + ": text after the quoted value");
    return v.substr(1, close - 1);
  }
  return trim(v.substr(0, v.find('#')));
}

bool flag_value(const std::string& value, const std::string& where) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw ConfigFileError(where + ": expected true or false, got '" + value + "'");
}

// Levenshtein distance, for "did you mean" on a misspelt name.
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& options, const std::string& name) {
  auto it = std::find_if(options.begin(), options.end(),
                         [&](const OptionSpec& o) { return o.name == name; });
  return it == options.end() ? nullptr : &*it;
}

[[noreturn]] void unknown_key(const std::string& name, const std::string& where,
                              const std::vector<OptionSpec>& options) {
  if (name == "config")
    throw ConfigFileError(where + ": 'config' cannot be used inside a config file");
  std::string bare = name.substr(std::min(name.find_first_not_of('-'), name.size()));
  if (bare != name && find_spec(options, bare))
    throw ConfigFileError(where + ": write '" + bare + "' without dashes");
  std::string hint;
  std::size_t best = 3;  // at most two edits away
  for (const OptionSpec& o : options) {
    std::size_t d = distance(name, o.name);
    if (o.name != "config" && d < best) {
      best = d;
      hint = " (did you mean '" + o.name + "'?)";
    }
  }
  throw ConfigFileError(where + ": unknown key '" + name + "'" + hint);
}

// Relative file names in a config file are relative to its directory, so that a service
// started from / finds /etc/tund/server.key named as `private-key = server.key`.
std::string resolve(const std::string& value, const std::string& config_path) {
  auto slash = config_path.rfind('/');
  if (value.empty() || value[0] == '/' || slash == std::string::npos) return value;
  return config_path.substr(0, slash + 1) + value;
}

FileOption parse_line(const std::string& t, const std::string& path, const std::string& where,
                      const std::vector<OptionSpec>& options) {
  auto eq = t.find('=');
  if (eq == std::string::npos && t[0] == '[')
    throw ConfigFileError(where + ": sections ([...]) are not used; expected 'name = value'");
  if (eq == std::string::npos) throw ConfigFileError(where + ": expected 'name = value'");
  FileOption entry;
  entry.name = trim(t.substr(0, eq));
  const OptionSpec* spec = find_spec(options, entry.name);
  if (!spec || entry.name == "config") unknown_key(entry.name, where, options);
  entry.value = value_of(t.substr(eq + 1), where);
  entry.flag = spec->kind == OptionSpec::Kind::flag;
  if (entry.flag) return entry;
  if (entry.value.empty()) throw ConfigFileError(where + ": '" + entry.name + "' needs a value");
  if (spec->kind == OptionSpec::Kind::path ||
      (spec->kind == OptionSpec::Kind::key_or_path && !looks_like_key(entry.value)))
    entry.value = resolve(entry.value, path);
  return entry;
}

}  // namespace

std::vector<FileOption> parse_config_text(const std::string& text, const std::string& path,
                                          const std::vector<OptionSpec>& options) {
  if (text.rfind("\xFF\xFE", 0) == 0 || text.rfind("\xFE\xFF", 0) == 0)
    throw ConfigFileError(path +
                          ": UTF-16 text (it starts with a UTF-16 byte-order mark); "
                          "save it as UTF-8");
  // Notepad starts UTF-8 files with a byte-order mark; it is not part of the first name.
  std::istringstream in(text.rfind(kBom, 0) == 0 ? text.substr(kBom.size()) : text);
  std::vector<FileOption> entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string where = path + " line " + std::to_string(number);
    check_text(line, where);
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    FileOption entry = parse_line(t, path, where, options);
    entry.line = number;
    if (entry.flag) {
      if (!flag_value(entry.value, where)) continue;  // `debug = false`: as if not given
      entry.value.clear();
    }
    entries.push_back(entry);
  }
  return entries;
}

std::vector<FileOption> read_config_file(const std::string& path,
                                         const std::vector<OptionSpec>& options) {
  std::string problem = file_error(path, "config file");
  if (!problem.empty()) throw ConfigFileError(problem);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigFileError("cannot read config file " + path + ": " + std::strerror(errno));
  std::string text;
  text.resize(kMaxFileSize + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad())
    throw ConfigFileError("cannot read config file " + path + ": " + std::strerror(errno));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxFileSize)
    throw ConfigFileError("config file " + path + " is larger than 1 MiB: not a config file?");
  return parse_config_text(text, path, options);
}

std::vector<std::string> to_args(const std::vector<FileOption>& entries) {
  std::vector<std::string> args;
  // --name=value: a value starting with '-' stays a value.
  for (const FileOption& e : entries)
    args.push_back(e.flag ? "--" + e.name : "--" + e.name + "=" + e.value);
  return args;
}

std::string Sources::prefix(const std::string& option, std::size_t index) const {
  auto it = by_option.find(option);
  if (it == by_option.end() || it->second.empty()) return "";
  const Origin& o = it->second[std::min(index, it->second.size() - 1)];
  return o.file.empty() ? "" : o.file + " line " + std::to_string(o.line) + ": ";
}

std::string Sources::locate(const std::string& message) const {
  if (message.rfind("--", 0) != 0) return message;
  auto end = message.find_first_of(": ", 2);
  return prefix(message.substr(2, end == std::string::npos ? end : end - 2)) + message;
}

}  // namespace tund::config
