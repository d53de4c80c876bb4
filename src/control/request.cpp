// Requests of the control protocol (docs/CONTROL.md, "Requests"): one record, strict (an
// unknown field is refused: a client must not believe the daemon did what it did not).
#include <optional>

#include "text.hpp"
#include "tund/control/records.hpp"

namespace tund::control {
namespace {

using detail::concat;
using detail::quoted;

constexpr Command kCommands[] = {Command::show, Command::reload, Command::disconnect};

Command command_named(std::string_view value) {
  for (auto command : kCommands)
    if (value == name(command)) return command;
  throw ProtocolError(concat("unknown command ", quoted(value), " (show, reload, disconnect)"));
}

// A peer's name ([A-Za-z0-9_.-]) or public key (base64: also '+', '/', '=').
bool valid_peer(std::string_view peer) {
  constexpr std::size_t kMaxPeer = 255;
  if (peer.empty() || peer.size() > kMaxPeer) return false;
  for (char c : peer) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    bool other = c == '_' || c == '.' || c == '-' || c == '+' || c == '/' || c == '=';
    if (!alnum && !other) return false;
  }
  return true;
}

struct Seen {
  std::optional<Command> command;
  std::optional<std::string> peer;
  bool protocol = false;
};

void take(Seen& seen, const std::string& field, const std::string& value) {
  auto twice = [&](bool already) {
    if (already) throw ProtocolError(concat("'", field, "' given twice"));
  };
  if (field == "protocol") {
    twice(seen.protocol);
    detail::check_protocol(value);
    seen.protocol = true;
  } else if (field == "command") {
    twice(seen.command.has_value());
    seen.command = command_named(value);
  } else if (field == "peer") {
    twice(seen.peer.has_value());
    if (!valid_peer(value))
      throw ProtocolError(concat("invalid peer ", quoted(value), " (a name or a public key)"));
    seen.peer = value;
  } else {
    throw ProtocolError(concat("unknown field '", field, "' in a request"));
  }
}

}  // namespace

const char* name(Command command) {
  switch (command) {
    case Command::show:
      return "show";
    case Command::reload:
      return "reload";
    case Command::disconnect:
      return "disconnect";
  }
  return "?";
}

bool changes_state(Command command) {
  return command != Command::show;
}

Request parse_request(std::string_view text) {
  auto records = parse_records(text, kMaxRequestBytes);
  if (records.empty()) throw ProtocolError("an empty request");
  if (records.size() > 1) throw ProtocolError("more than one record in a request");
  Seen seen;
  for (const auto& [field, value] : records.front().fields) take(seen, field, value);
  if (!seen.command) throw ProtocolError("no 'command' in the request");
  bool wants_peer = *seen.command == Command::disconnect;
  if (wants_peer && !seen.peer) throw ProtocolError("disconnect needs a 'peer'");
  if (!wants_peer && seen.peer)
    throw ProtocolError(concat("'peer' is not taken by ", name(*seen.command)));
  return {*seen.command, seen.peer.value_or("")};
}

std::string encode_request(const Request& request) {
  Record record;
  record.add("protocol", std::to_string(kProtocolVersion));
  record.add("command", name(request.command));
  if (request.command == Command::disconnect) record.add("peer", request.peer);
  return encode_records({record});
}

}  // namespace tund::control
