#include "tund/daemon/keytool.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

// `tund genkey > server.key` must not leave a world-readable secret: when stdout is a
// regular file, restrict it to its owner before writing the key into it.
bool protect_stdout() {
  struct stat st {};
  if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return true;
  if (fchmod(STDOUT_FILENO, 0600) == 0) return true;
  std::perror("tund: error: cannot restrict the key file to mode 0600");
  return false;
}

int print_secret(const crypto::Key& key) {
  if (!protect_stdout()) return 1;
  std::cout << crypto::to_base64(key) << '\n';
  return std::cout.good() ? 0 : 1;
}

}  // namespace

bool is_key_command(const std::string& command) {
  return command == "genkey" || command == "pubkey" || command == "genpsk";
}

int run_key_command(const std::string& command) {
  crypto::init_sodium();
  if (command == "genkey" || command == "genpsk") return print_secret(crypto::random_private_key());
  std::string line;
  std::getline(std::cin, line);
  try {
    crypto::Key priv = crypto::key_from_base64(line, "standard input");
    std::cout << crypto::to_base64(crypto::x25519_public(priv)) << '\n';
    crypto::wipe(priv.data(), priv.size());
    return 0;
  } catch (const crypto::KeyError& e) {
    std::fprintf(stderr, "tund: error: %s (expected a private key from tund genkey)\n", e.what());
    return 1;
  }
}

}  // namespace tund::daemon
