// The config file parser: any text either becomes entries (and arguments) or a
// ConfigFileError; it never crashes, and every entry names an option and a line.
#include <cstdlib>
#include <string>

#include "tund/config/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using Kind = tund::config::OptionSpec::Kind;
  static const std::vector<tund::config::OptionSpec> specs = {
      {"iface", Kind::value, 'i'}, {"server", Kind::flag, 's'},     {"connect", Kind::value, 'c'},
      {"port", Kind::value, 'p'},  {"allow", Kind::key_or_path, 0}, {"up", Kind::value, 0},
      {"debug", Kind::flag, 'd'},  {"private-key", Kind::path, 0}};
  try {
    auto entries = tund::config::parse_config_text(
        std::string(reinterpret_cast<const char*>(data), size), "/etc/tund/fuzz.conf", specs);
    for (const auto& e : entries)
      if (e.name.empty() || e.line < 1) std::abort();
    tund::config::to_args(entries);
  } catch (const tund::config::ConfigFileError&) {
  }
  return 0;
}
