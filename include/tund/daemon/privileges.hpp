// --user / --group: once the device and socket are open, tund stops being root. It keeps
// CAP_NET_ADMIN (and passes it to hooks as an ambient capability) so that a --down script
// can still remove routes and NAT rules; every other root power is gone.
#pragma once

#include <sys/types.h>

#include <string>

namespace tund::daemon {

struct Account {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks the user and group up (at start-up, before anything is changed). Throws
// std::runtime_error with a one-line message when either does not exist.
Account lookup_account(const std::string& user, const std::string& group);

// Switches to the account. Throws std::runtime_error with a one-line message on failure.
void drop_privileges(const Account& account);

}  // namespace tund::daemon
