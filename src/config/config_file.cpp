#include "tund/config/config_file.hpp"

#include <algorithm>
#include <cctype>
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

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// The code point of the valid UTF-8 sequence of `length` bytes at `i`.
unsigned code_point(const std::string& s, std::size_t i, std::size_t length) {
  static const unsigned kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  unsigned cp = static_cast<unsigned char>(s[i]) & kLeadMask[length];
  for (std::size_t k = 1; k < length; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Characters that look like nothing, or like a plain space, but are not one: a name or
// value holding one fails in a way the reader cannot see. The C1 controls, the Unicode
// spaces other than U+0020, and the format characters (Cf) that text editors show as
// nothing: zero-width, joiners, direction marks and embeddings, invisible operators.
const char* invisible_name(unsigned cp) {
  if (cp < 0x80) return nullptr;  // ASCII: the controls are refused before this
  struct Range {
    unsigned first, last;
    const char* name;
  };
  static const Range kInvisible[] = {{0x0080, 0x009F, "a C1 control character"},
                                     {0x00A0, 0x00A0, "U+00A0 no-break space"},
                                     {0x00AD, 0x00AD, "U+00AD soft hyphen"},
                                     {0x034F, 0x034F, "U+034F combining grapheme joiner"},
                                     {0x061C, 0x061C, "U+061C Arabic letter mark"},
                                     {0x115F, 0x1160, "a Hangul filler"},
                                     {0x1680, 0x1680, "U+1680 Ogham space mark"},
                                     {0x180E, 0x180E, "U+180E Mongolian vowel separator"},
                                     {0x2000, 0x200A, "a Unicode space other than U+0020"},
                                     {0x200B, 0x200B, "U+200B zero-width space"},
                                     {0x200C, 0x200C, "U+200C zero-width non-joiner"},
                                     {0x200D, 0x200D, "U+200D zero-width joiner"},
                                     {0x200E, 0x200E, "U+200E left-to-right mark"},
                                     {0x200F, 0x200F, "U+200F right-to-left mark"},
                                     {0x2028, 0x2028, "U+2028 line separator"},
                                     {0x2029, 0x2029, "U+2029 paragraph separator"},
                                     {0x202A, 0x202E, "a bidirectional embedding or override"},
                                     {0x202F, 0x202F, "U+202F narrow no-break space"},
                                     {0x205F, 0x205F, "U+205F medium mathematical space"},
                                     {0x2060, 0x2060, "U+2060 word joiner"},
                                     {0x2061, 0x2064, "an invisible operator"},
                                     {0x2066, 0x2069, "a bidirectional isolate"},
                                     {0x206A, 0x206F, "a deprecated format character"},
                                     {0x3000, 0x3000, "U+3000 ideographic space"},
                                     {0x3164, 0x3164, "U+3164 Hangul filler"},
                                     {0xFE00, 0xFE0F, "a variation selector"},
                                     {0xFEFF, 0xFEFF, "U+FEFF byte-order mark"},
                                     {0xFFA0, 0xFFA0, "U+FFA0 halfwidth Hangul filler"},
                                     {0xFFF9, 0xFFFB, "an interlinear annotation character"},
                                     {0xE0000, 0xE007F, "a tag character"}};
  for (const Range& r : kInvisible)
    if (cp >= r.first && cp <= r.last) return r.name;
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
    std::size_t length = util::utf8_sequence_length(line, i);
    if (length == 0)
      throw ConfigFileError(where + ": not valid UTF-8 at column " + std::to_string(column) +
                            " (save the file as UTF-8)");
    if (const char* name = invisible_name(code_point(line, i, length))) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", code_point(line, i, length));
      std::string what = std::strncmp(name, "U+", 2) == 0 ? name : std::string(name) + ", " + hex;
      throw ConfigFileError(where + ": an invisible character (" + what + ") at column " +
                            std::to_string(column) + "; retype the line");
    }
    i += length;
  }
}

// Where the value's comment starts, as in sh: a '#' at the start of the value or after
// whitespace, outside quotes ('#' inside a word, `tun#0` or `a#b`, is part of it). A
// backslash outside single quotes keeps the next character as it is. npos: no comment.
std::size_t comment_start(const std::string& v, const std::string& where) {
  char quote = 0;
  bool word_start = true;  // at the start, or after an unescaped blank outside quotes
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool blank = !quote && is_blank(c);
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"')
        ++i;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '\\') {
      ++i;
    } else if (c == '#' && word_start) {
      return i;
    }
    word_start = blank;
  }
  if (quote) throw ConfigFileError(where + ": unterminated quote");
  return std::string::npos;
}

// Where the quote opened at v[0] closes: inside "...", \" and \\ do not close it (sh).
std::size_t closing_quote(const std::string& v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[0] == '"' && v[i] == '\\')
      ++i;
    else if (v[i] == v[0])
      return i;
  }
  return std::string::npos;
}

bool one_quoted_string(const std::string& v) {
  return v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && closing_quote(v) == v.size() - 1;
}

// The text inside the quotes; in "...", \" and \\ stand for " and \ as in sh (other
// backslashes stay, as sh keeps them).
std::string unquoted(const std::string& v) {
  std::string inner = v.substr(1, v.size() - 2);
  if (v[0] == '\'') return inner;
  std::string out;
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size() && (inner[i + 1] == '"' || inner[i + 1] == '\\'))
      ++i;
    out += inner[i];
  }
  return out;
}

// A value that is one quoted string ("..." or '...') loses its quotes; any other keeps
// every quote as written (a shell command with quoted arguments stays a shell command).
std::string value_of(const std::string& raw, const std::string& where) {
  std::string v = trim(raw);
  // A word processor's quotes would become part of the value (a shell command, a path).
  for (const char* curly : {"\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x98", "\xE2\x80\x99"})
    if (v.rfind(curly, 0) == 0)
      throw ConfigFileError(where + ": a typographic quote (" + curly + "); quote with \" or '");
  v = trim(v.substr(0, comment_start(v, where)));
  return one_quoted_string(v) ? unquoted(v) : v;
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

// "PrivateKey", "private_key" -> "privatekey": the name as other programs spell it.
std::string folded(const std::string& name) {
  std::string out;
  for (char c : name)
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The key meant by a name that is not one: a short option letter, another program's word
// for it (OpenVPN's dev/remote/proto, the wg-quick spelling), or a near miss.
std::string hint_for(const std::string& name, const std::vector<OptionSpec>& options) {
  for (const OptionSpec& o : options)
    if (name.size() == 1 && o.letter == name[0])
      return " (-" + name + " is short for --" + o.name + "; use the long name: '" + o.name + "')";
  static const std::pair<const char*, const char*> kAliases[] = {
      {"interface", "iface"},     {"dev", "iface"},
      {"device", "iface"},        {"remote", "connect"},
      {"host", "connect"},        {"server-address", "connect"},
      {"proto", "transport"},     {"protocol", "transport"},
      {"bind", "listen"},         {"local", "listen"},
      {"verbose", "debug"},       {"publickey", "peer-key"},
      {"peerkey", "peer-key"},    {"ip", "address"},
      {"addr", "address"},        {"key", "private-key"},
      {"privkey", "private-key"}, {"mac", "link-mac"},
      {"presharedkey", "psk"},    {"allowedkeys", "allow-file"}};
  std::string f = folded(name);
  for (const OptionSpec& o : options)
    if (o.name != "config" && folded(o.name) == f) return " (did you mean '" + o.name + "'?)";
  for (const auto& [alias, key] : kAliases)
    if (f == folded(alias) && find_spec(options, key))
      return " (did you mean '" + std::string(key) + "'?)";
  std::string hint;
  std::size_t best =
      std::min<std::size_t>(3, name.size());  // two edits at most, fewer than its length
  for (const OptionSpec& o : options) {
    std::size_t d = distance(name, o.name);
    if (o.name != "config" && d < best) {
      best = d;
      hint = " (did you mean '" + o.name + "'?)";
    }
  }
  return hint;
}

[[noreturn]] void unknown_key(const std::string& name, const std::string& where,
                              const std::vector<OptionSpec>& options) {
  if (name == "config")
    throw ConfigFileError(where + ": 'config' cannot be used inside a config file");
  std::string bare = name.substr(std::min(name.find_first_not_of('-'), name.size()));
  if (bare != name && find_spec(options, bare))
    throw ConfigFileError(where + ": write '" + bare + "' without dashes");
  throw ConfigFileError(where + ": unknown key '" + name + "'" + hint_for(name, options));
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

bool flag_value(const std::string& value, const std::string& where) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw ConfigFileError(where + ": expected true or false, got '" + value + "'");
}

std::vector<FileOption> parse_config_text(const std::string& text, const std::string& path,
                                          const std::vector<OptionSpec>& options) {
  if (text.rfind("\xFF\xFE", 0) == 0 || text.rfind("\xFE\xFF", 0) == 0)
    throw ConfigFileError(path +
                          ": UTF-16 text (it starts with a UTF-16 byte-order mark); "
                          "save it as UTF-8");
  // Notepad starts UTF-8 files with a byte-order mark; it is not part of the first name.
  std::istringstream in(util::without_bom(text));
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
                                         const std::vector<OptionSpec>& options,
                                         const std::string& what) {
  return parse_config_text(read_config_text(path, what), path, options);
}

std::string read_config_text(const std::string& path, const std::string& what) {
  std::string problem = file_error(path, what);
  if (!problem.empty()) throw ConfigFileError(problem);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigFileError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  // In pieces, up to one byte past the limit: a hub reads a thousand small peer files, and
  // a 1 MiB buffer each (zeroed by resize) cost more than the parsing.
  std::string text;
  char piece[4096];
  while (text.size() <= kMaxFileSize && in.read(piece, sizeof piece).gcount() > 0)
    text.append(piece, static_cast<std::size_t>(in.gcount()));
  if (in.bad())
    throw ConfigFileError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  if (text.size() > kMaxFileSize)
    throw ConfigFileError(what + " " + path + " is larger than 1 MiB: not a " + what + "?");
  return text;
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
