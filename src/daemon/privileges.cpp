#include "tund/daemon/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tund::daemon {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Permitted, effective and inheritable: only CAP_NET_ADMIN.
void keep_only_net_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  const unsigned bit = 1u << CAP_NET_ADMIN;
  data[0].permitted = data[0].effective = data[0].inheritable = bit;
  if (syscall(SYS_capset, &header, data) != 0) fail("cannot keep CAP_NET_ADMIN");
  // Ambient: hooks (exec'd shell scripts) inherit it.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) != 0)
    fail("cannot pass CAP_NET_ADMIN to hooks");
}

}  // namespace

Account lookup_account(const std::string& user, const std::string& group) {
  const passwd* pw = getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("--user: no such user '" + user + "'");
  Account account{user, pw->pw_uid, pw->pw_gid};
  if (!group.empty()) {
    const struct group* gr = getgrnam(group.c_str());
    if (!gr) throw std::runtime_error("--group: no such group '" + group + "'");
    account.gid = gr->gr_gid;
  }
  return account;
}

void drop_privileges(const Account& account) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_KEEPCAPS)");
  if (setgroups(0, nullptr) != 0) fail("cannot drop supplementary groups");
  if (setresgid(account.gid, account.gid, account.gid) != 0)
    fail("cannot switch to group " + std::to_string(account.gid));
  if (setresuid(account.uid, account.uid, account.uid) != 0)
    fail("cannot switch to user " + account.user);
  keep_only_net_admin();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
}

}  // namespace tund::daemon
