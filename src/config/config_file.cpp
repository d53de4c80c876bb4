#include "tund/config/config_file.hpp"

#include <algorithm>
#include <sstream>

#include "tund/util/strings.hpp"

namespace tund::config {
namespace {

using util::trim;

// A value may be quoted ("..." or '...'); a '#' outside quotes starts a comment.
std::string value_of(const std::string& raw, const std::string& where) {
  std::string v = trim(raw);
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

}  // namespace

std::vector<std::string> config_to_args(const std::string& text, const std::string& path,
                                        const std::vector<OptionSpec>& options) {
  std::vector<std::string> args;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string where = path + " line " + std::to_string(number);
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) throw ConfigFileError(where + ": expected 'name = value'");
    std::string name = trim(t.substr(0, eq));
    auto spec = std::find_if(options.begin(), options.end(),
                             [&](const OptionSpec& o) { return o.name == name; });
    if (spec == options.end() || name == "config")
      throw ConfigFileError(where + ": unknown key '" + name + "'");
    std::string value = value_of(t.substr(eq + 1), where);
    if (spec->flag) {
      if (flag_value(value, where)) args.push_back("--" + name);
    } else {
      if (value.empty()) throw ConfigFileError(where + ": '" + name + "' needs a value");
      args.push_back("--" + name);
      args.push_back(value);
    }
  }
  return args;
}

}  // namespace tund::config
