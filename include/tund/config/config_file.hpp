// Config files: every long command-line option as `name = value`, one per line, with
// `#` comments and blank lines; flags take true/false (or yes/no, on/off); options that
// may repeat (allow) may repeat. The text must be UTF-8 (a leading byte-order mark, as
// Notepad writes, is skipped; CRLF line ends work); a NUL byte, invalid UTF-8, a control
// character or an invisible one (no-break space, zero-width space, a byte-order mark
// inside the file) is an error naming the line, as is an unknown name or a bad value.
// Relative paths in path options (private-key, psk, allow-file, and peer-key/allow when
// they are files) are relative to the config file's directory; up/down are shell commands
// and are left alone. The command line combines these with its own (cli.hpp).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace tund::config {

class ConfigFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  enum class Kind {
    flag,         // takes no value on the command line: true/false in the file
    value,        // any other value
    path,         // a file name: a relative one is relative to the config file
    key_or_path,  // a base64 key, or a file name as for `path`
  };
  std::string name;  // long name without dashes, e.g. "iface"
  Kind kind = Kind::value;
  char letter = 0;  // the short option (-i), 0 for none: `i = tun0` gets "use the long name"
};

// One `name = value` line. A flag set to false yields no entry; a true flag has an empty
// value.
struct FileOption {
  std::string name;
  std::string value;
  bool flag = false;
  int line = 0;
};

// Parses `text` (read from `path`, which is named in messages and gives the directory
// relative paths are resolved against). Throws ConfigFileError("PATH line N: ...").
std::vector<FileOption> parse_config_text(const std::string& text, const std::string& path,
                                          const std::vector<OptionSpec>& options);
// Reads `path` (a regular file of at most 1 MiB) and parses it. Throws ConfigFileError
// when it cannot be read, is a directory or not a regular file, or does not parse; `what`
// names the file in those messages ("cannot read peer file ...").
std::vector<FileOption> read_config_file(const std::string& path,
                                         const std::vector<OptionSpec>& options,
                                         const std::string& what = "config file");
// The text of `path` as read_config_file reads it (the same checks, before any parsing).
std::string read_config_text(const std::string& path, const std::string& what = "config file");
// A flag's word as the config file takes it: true/yes/on/1 or false/no/off/0, in any
// case. Throws ConfigFileError("WHERE: expected true or false, got 'VALUE'").
bool flag_value(const std::string& value, const std::string& where);
// Command-line arguments for the entries: {"--iface=tun3", "--server", ...}.
std::vector<std::string> to_args(const std::vector<FileOption>& entries);

}  // namespace tund::config
