// The control protocol (docs/CONTROL.md): what `tund show` and the other control commands
// send over the control socket, and what the daemon answers. A versioned line protocol:
// each line "name = value" (name: [a-z0-9_.-]+; spaces around the first '=' optional, as
// in the config file; value: the rest of the line without its leading and trailing
// spaces, where "\\" is a backslash and "\xNN" the byte NN, so any byte string fits on
// one line), a blank line ends a record; LF line ends, a CR before the LF tolerated. One
// request per connection: the client writes one request record, the daemon writes its
// reply and closes. Every reply's first record starts "protocol = 1" then "status = ok" or
// "status = error" with "error = ONE LINE". A show reply carries, after that header
// record, the interface record (first line "interface = NAME") and one record per peer
// (first line "peer = NAME").
// Pure: bytes in, values or a ProtocolError out (fuzzed: tests/fuzz/fuzz_control.cpp).
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tund/control/status.hpp"

namespace tund::control {

// Bounds: a request longer than this is refused (the daemon closes the connection).
inline constexpr std::size_t kMaxRequestBytes = 4096;
// A reply longer than this is refused by the client (1000 peers take about 1 MB).
inline constexpr std::size_t kMaxReplyBytes = 64u << 20;

// One line naming what is wrong ("line 3: no ' = ' in 'foo'").
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Record {
  std::vector<std::pair<std::string, std::string>> fields;  // in order; names may repeat
  // The first value of `name`; nullptr without one.
  const std::string* find(std::string_view name) const;
  void add(std::string name, std::string value) {
    fields.emplace_back(std::move(name), std::move(value));
  }
};

// Parses `text` into records (blank lines separate them; several blank lines are one;
// a last record without its blank line counts), values unescaped. Throws ProtocolError
// ("line 3: no '=' in 'foo'") for a line without '=', an empty or invalid name, a control
// character outside an escape (a CR other than before the LF included), a backslash not
// starting "\\" or "\xNN", or more than `max_bytes`.
std::vector<Record> parse_records(std::string_view text, std::size_t max_bytes);
// Each record's lines, then a blank line. Values are escaped (a backslash, a control byte,
// a space at either end), so any value can be written and parses back the same. Throws
// ProtocolError for an invalid name or an empty record (neither can be written).
std::string encode_records(const std::vector<Record>& records);

// ---- requests -------------------------------------------------------------------------
enum class Command { show, reload, disconnect };
struct Request {
  Command command = Command::show;
  std::string peer;  // disconnect: the peer's name (hub) or its public key (base64)
};
// "command = show" (and "peer = NAME" for disconnect). Throws ProtocolError for an unknown
// command, a missing or stray peer, a peer that is neither a name ([A-Za-z0-9_.-]) nor a
// key (base64), a "protocol" other than 1, an unknown field, a field given twice, more
// than one record, more than kMaxRequestBytes.
Request parse_request(std::string_view text);
std::string encode_request(const Request& request);
// Does this command change state (only root or the daemon's own user may send it)?
bool changes_state(Command command);
const char* name(Command command);

// ---- replies --------------------------------------------------------------------------
// Every field of `status`; throws ProtocolError for a counter group name that is empty or
// holds a '.', or an empty counter name (they would not parse back the same).
std::string encode_status_reply(const InterfaceStatus& status);
// reload / disconnect: "status = ok" and "message = ONE LINE".
std::string encode_ok_reply(const std::string& message);
std::string encode_error_reply(const std::string& error);

struct Reply {
  bool ok = false;
  std::string error;    // !ok
  std::string message;  // ok: reload/disconnect
  std::optional<InterfaceStatus> status;  // ok: show
};
// Throws ProtocolError for a reply of another protocol version, a missing status, a
// number that is not one (or out of its field's range), a known field given twice, a
// status reply without its interface record. Fields and records it does not know are
// ignored, and missing fields stay empty/zero (another tund of protocol 1).
Reply parse_reply(std::string_view text);

}  // namespace tund::control
