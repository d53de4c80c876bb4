// Command-line parsing with CLI11. Returns either a Config or what to print and the exit
// status (for --help, --version and errors), so main() stays a few lines and tests can
// check every error without a process.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "tund/config/config.hpp"

namespace tund::config {

struct CliExit {
  int status;          // 0 for --help/--version, 2 for usage errors
  std::string output;  // what to print (stdout when status is 0, else stderr)
};

using CliResult = std::variant<Config, CliExit>;

// `args` excludes the program name.
CliResult parse_command_line(const std::vector<std::string>& args);

inline constexpr const char* kVersion = "0.1.0";

}  // namespace tund::config
