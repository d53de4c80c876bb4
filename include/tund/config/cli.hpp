// Command-line parsing with CLI11, combined with the --config file (config_file.hpp): the
// command line wins, the mode (-s/-c, -u/-a) included; a conflict within the command line
// or within the file is an error. Every value is checked here, before anything starts:
// syntax, ranges, combinations, and that each file an option names is a regular file, so
// every configuration error is exit status 2 and names the file line its value came from.
// Returns either a Config or what to print and the exit status (for --help, --version and
// errors), so main() stays a few lines and tests can check every error without a process.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "tund/config/config.hpp"
#include "tund/config/version.hpp"  // kVersion, generated from CMakeLists.txt's project(VERSION)

namespace tund::config {

struct CliExit {
  int status;          // 0 for --help/--version, 2 for usage errors (and no arguments at all)
  std::string output;  // what to print (stdout when status is 0, else stderr)
};

using CliResult = std::variant<Config, CliExit>;

// `args` excludes the program name. No arguments at all: the short usage, status 2.
CliResult parse_command_line(const std::vector<std::string>& args);

// The usage lines (daemon modes and key commands), ending in a pointer to --help.
std::string short_usage();

}  // namespace tund::config
