#include "tund/daemon/keytool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "tund/crypto/keys.hpp"
#include "tund/crypto/primitives.hpp"
#include "tund/util/log.hpp"

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
  util::print_error(std::string("cannot restrict the key file to mode 0600: ") +
                    std::strerror(errno));
  return false;
}

// A closed descriptor 0 or 1 (`tund genkey >&-`) would be reused by the next open(2) (a
// library's /dev/urandom), and the key written there: refuse before anything is opened.
bool standard_streams_open(bool reads_stdin) {
  if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
    util::print_error(std::string("cannot write the key to standard output: ") +
                      std::strerror(errno));
    return false;
  }
  if (reads_stdin && fcntl(STDIN_FILENO, F_GETFD) < 0) {
    util::print_error(std::string("cannot read standard input: ") + std::strerror(errno));
    return false;
  }
  return true;
}

int print_secret(const crypto::Key& key) {
  if (!protect_stdout()) return 1;
  std::string text = crypto::to_base64(key) + '\n';
  bool written = util::print_stdout(text, "the key");
  crypto::wipe(text.data(), text.size());
  return written ? 0 : 1;
}

// The first line of standard input, at most kMaxKeyLine bytes: a key is one short line,
// and `pubkey < /dev/zero` must end with an error, not fill the memory.
constexpr std::size_t kMaxKeyLine = 1024;

std::optional<std::string> read_key_line() {
  std::string text;
  char buf[256];
  while (text.find('\n') == std::string::npos && text.size() <= kMaxKeyLine) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      util::print_error(std::string("cannot read standard input: ") + std::strerror(errno));
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  crypto::wipe(buf, sizeof buf);
  std::size_t end = std::min(text.find('\n'), text.size());
  if (end > kMaxKeyLine) {
    crypto::wipe(text.data(), text.size());
    util::print_error("standard input: the first line is longer than " +
                      std::to_string(kMaxKeyLine) +
                      " bytes, not a key (expected a private key from tund genkey)");
    return std::nullopt;
  }
  std::string line = text.substr(0, end);
  crypto::wipe(text.data(), text.size());
  return line;
}

int print_public() {
  // Typed or pasted at a terminal, the command would otherwise wait without a word.
  if (isatty(STDIN_FILENO))
    util::print_stderr(util::LogLevel::info,
                       "tund: reading a private key on standard input (end with Ctrl-D)");
  auto line = read_key_line();
  if (!line) return 1;
  try {
    crypto::Key priv = crypto::key_from_base64(*line, "standard input");
    crypto::wipe(line->data(), line->size());
    crypto::check_secret_key(priv, "standard input");  // as the daemon refuses it
    crypto::Key pub = crypto::x25519_public(priv);
    crypto::wipe(priv.data(), priv.size());
    return util::print_stdout(crypto::to_base64(pub) + '\n', "the public key") ? 0 : 1;
  } catch (const crypto::KeyError& e) {
    crypto::wipe(line->data(), line->size());
    util::print_error(std::string(e.what()) + " (expected a private key from tund genkey)");
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
    if (exit->status != 0) {
      util::print_stderr(util::LogLevel::error, exit->output);
      return exit->status;
    }
    return util::print_stdout(exit->output, "the usage") ? 0 : 1;
  }
  if (!standard_streams_open(args[0] == "pubkey")) return 1;
  try {
    crypto::init_sodium();
  } catch (const std::exception& e) {
    util::print_error(e.what());
    return 1;
  }
  if (args[0] == "pubkey") return print_public();
  return print_secret(crypto::random_private_key());
}

}  // namespace tund::daemon
