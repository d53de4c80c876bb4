// Small string helpers shared by the parsers of config and key files.
#pragma once

#include <string>

namespace tund::util {

// `text` without leading and trailing spaces, tabs and line ends.
std::string trim(const std::string& text);

}  // namespace tund::util
