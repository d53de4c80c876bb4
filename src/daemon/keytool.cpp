#include "tund/daemon/keytool.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "tund/crypto/keys.hpp"

namespace tund::daemon {
namespace {

std::string usage_of(const std::string& command) {
  if (command == "pubkey") return "tund pubkey < PRIVATE_KEY_FILE > PUBLIC_KEY_FILE";
  if (command == "genpsk") return "tund genpsk > PSK_FILE";
  return "tund genkey > PRIVATE_KEY_FILE";
}

std::string help_of(const std::string& command) {
  std::string what =
      command == "pubkey"   ? "Prints the public key of the private key read on standard input."
      : command == "genpsk" ? "Prints a new preshared key (--psk), the same file on both sides."
                            : "Prints a new private key (--private-key).";
  std::string mode = command == "pubkey" ? "" : " Written to a file, the file is made mode 0600.";
  return "usage: " + usage_of(command) + "\n" + what + mode + "\n";
}

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

int print_public() {
  // Typed or pasted at a terminal, the command would otherwise wait without a word.
  if (isatty(STDIN_FILENO))
    std::fputs("tund: reading a private key on standard input (end with Ctrl-D)\n", stderr);
  std::string line;
  std::getline(std::cin, line);
  try {
    crypto::Key priv = crypto::key_from_base64(line, "standard input");
    std::cout << crypto::to_base64(crypto::x25519_public(priv)) << '\n';
    crypto::wipe(priv.data(), priv.size());
    return std::cout.good() ? 0 : 1;
  } catch (const crypto::KeyError& e) {
    std::fprintf(stderr, "tund: error: %s (expected a private key from tund genkey)\n", e.what());
    return 1;
  }
}

}  // namespace

bool is_key_command(const std::string& word) {
  return word == "genkey" || word == "pubkey" || word == "genpsk";
}

std::optional<KeyCommandExit> key_command_usage(const std::vector<std::string>& args) {
  const std::string& command = args.at(0);
  if (args.size() == 1) return std::nullopt;
  if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h"))
    return KeyCommandExit{0, help_of(command)};
  std::string why = command == "pubkey"
                        ? "reads the private key on standard input, not from '" + args[1] + "'"
                        : "takes no arguments ('" + args[1] + "' given)";
  return KeyCommandExit{
      2, "tund: error: " + command + " " + why + "; usage: " + usage_of(command) + "\n"};
}

int run_key_command(const std::vector<std::string>& args) {
  if (auto exit = key_command_usage(args)) {
    std::fputs(exit->output.c_str(), exit->status == 0 ? stdout : stderr);
    return exit->status;
  }
  try {
    crypto::init_sodium();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tund: error: %s\n", e.what());
    return 1;
  }
  if (args[0] == "pubkey") return print_public();
  return print_secret(crypto::random_private_key());
}

}  // namespace tund::daemon
