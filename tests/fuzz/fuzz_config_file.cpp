// The config file parser: any text either becomes arguments or a ConfigFileError.
#include <string>

#include "tund/config/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<tund::config::OptionSpec> specs = {
      {"iface", false}, {"server", true}, {"connect", false}, {"port", false},
      {"allow", false}, {"up", false},    {"debug", true}};
  try {
    tund::config::config_to_args(std::string(reinterpret_cast<const char*>(data), size), "fuzz",
                                 specs);
  } catch (const tund::config::ConfigFileError&) {
  }
  return 0;
}
