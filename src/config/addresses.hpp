// The addressing options of the command line and the config file (--address, --peer,
// --link-ip, all repeatable), checked and sorted into Config; private to the config
// module, shared by cli.cpp and addresses.cpp with the located errors both raise.
#pragma once

#include <string>
#include <vector>

#include "tund/config/config.hpp"

namespace tund::config {

// The values as given, in order (the config file's, or the command line's that replace them).
struct AddressOptions {
  std::vector<std::string> addresses, peers, link_ips;
};

// An error about value `index` of `option` (by default its last): from the config file it
// names the line (ConfigFileError); from the command line it keeps the plain form
// (CLI::ValidationError, followed by "see tund --help").
[[noreturn]] void fail(const Sources& sources, const std::string& option,
                       const std::string& message, std::size_t index = Sources::kLast);
// fail() with "--OPTION: ERROR" when `error` is not empty.
void check(const Sources& sources, const std::string& option, const std::string& error,
           std::size_t index = Sources::kLast);

// Every address checked alone and against the others (the same address twice, a --peer
// per family paired with the first --address of its family, one --link-ip per family)
// into cfg.addresses, cfg.link_ip and cfg.link_ip6. Throws as fail() does.
void take_addresses(Config& cfg, const AddressOptions& raw);
// Addressing that works differently from what it says: --peer on TAP, --link-mac without
// --link-ip, a --link-ip the kernel answers for itself or never routes to the device. One
// located line each.
std::vector<std::string> address_warnings(const Config& cfg, const AddressOptions& raw);

}  // namespace tund::config
