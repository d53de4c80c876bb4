#include "tund/util/strings.hpp"

namespace tund::util {

std::string trim(const std::string& text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  auto end = text.find_last_not_of(" \t\r\n");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace tund::util
