// Replies of the control protocol (docs/CONTROL.md, "Replies"): a header record, then for
// show the interface record and one record per peer. Every field of InterfaceStatus and
// PeerStatus has a line; the tables below name them once for both directions.
// Parsing is strict about what it knows (a number must be one, in range; a field at most
// once) and ignores fields it does not know (a newer daemon of protocol 1 may add some).
#include <bitset>
#include <charconv>
#include <cstdint>
#include <span>
#include <type_traits>
#include <variant>

#include "text.hpp"
#include "tund/control/records.hpp"

namespace tund::control {
namespace {

using detail::concat;
using detail::quoted;

template <class S>
using Member = std::variant<std::string S::*, bool S::*, std::uint16_t S::*, unsigned S::*,
                            std::int64_t S::*, std::uint64_t S::*>;
template <class S>
struct Field {
  const char* name;
  Member<S> member;
};

using I = InterfaceStatus;
const Field<I> kInterfaceFields[] = {{"interface", &I::interface},
                                     {"mode", &I::mode},
                                     {"role", &I::role},
                                     {"transport", &I::transport},
                                     {"listen_port", &I::listen_port},
                                     {"remote", &I::remote},
                                     {"public_key", &I::public_key},
                                     {"version", &I::version},
                                     {"pid", &I::pid},
                                     {"started", &I::started},
                                     {"now", &I::now},
                                     {"mtu", &I::mtu},
                                     {"peers_configured", &I::peers_configured},
                                     {"threads", &I::threads}};

using P = PeerStatus;
const Field<P> kPeerFields[] = {{"peer", &P::name},
                                {"public_key", &P::public_key},
                                {"up", &P::up},
                                {"disabled", &P::disabled},
                                {"endpoint", &P::endpoint},
                                {"latest_handshake", &P::latest_handshake},
                                {"up_since", &P::up_since},
                                {"last_received", &P::last_received},
                                {"rx_bytes", &P::rx_bytes},
                                {"rx_packets", &P::rx_packets},
                                {"tx_bytes", &P::tx_bytes},
                                {"tx_packets", &P::tx_packets},
                                {"handshakes", &P::handshakes},
                                {"sessions", &P::sessions},
                                {"endpoint_changes", &P::endpoint_changes},
                                {"queued", &P::queued},
                                {"cipher", &P::cipher}};

static_assert(std::size(kInterfaceFields) <= 32 && std::size(kPeerFields) <= 32,
              "the parser's Seen bitset holds 32 fields");

constexpr std::string_view kCounterPrefix = "counter.";  // counter.GROUP.NAME
constexpr std::string_view kDroppedPrefix = "dropped.";  // dropped.REASON

// ---- encoding -------------------------------------------------------------------------

std::string as_text(const std::string& value) {
  return value;
}
std::string as_text(bool value) {
  return value ? "true" : "false";
}
template <class T>
requires std::is_integral_v<T> std::string as_text(T value) {
  return std::to_string(value);
}

template <class S>
void add_fields(Record& record, const S& value, std::span<const Field<S>> fields) {
  for (const auto& field : fields)
    record.add(field.name,
               std::visit([&](auto member) { return as_text(value.*member); }, field.member));
}

// A group or counter name that would not come back the same is a bug in the daemon:
// refused here rather than written into a record that parses differently.
void check_counter_part(const std::string& part, bool is_group) {
  if (part.empty() || (is_group && part.find('.') != std::string::npos))
    throw ProtocolError(concat("counter name ", quoted(part), " cannot be written"));
}

Record interface_record(const InterfaceStatus& status) {
  Record record;
  add_fields<I>(record, status, kInterfaceFields);
  for (auto frames : status.thread_frames) record.add("thread_frames", std::to_string(frames));
  for (const auto& [group, counters] : status.counters) {
    check_counter_part(group, true);
    for (const auto& [name, value] : counters) {
      check_counter_part(name, false);
      record.add(concat(kCounterPrefix, group, ".", name), std::to_string(value));
    }
  }
  return record;
}

Record peer_record(const PeerStatus& peer) {
  Record record;
  add_fields<P>(record, peer, kPeerFields);
  for (const auto& prefix : peer.allowed_ips) record.add("allowed_ip", prefix);
  for (const auto& mac : peer.macs) record.add("mac", mac);
  for (const auto& [reason, value] : peer.dropped) {
    check_counter_part(reason, false);
    record.add(concat(kDroppedPrefix, reason), std::to_string(value));
  }
  return record;
}

Record header(const char* status) {
  Record record;
  record.add("protocol", std::to_string(kProtocolVersion));
  record.add("status", status);
  return record;
}

// ---- parsing --------------------------------------------------------------------------

// Decimal digits, a '-' first only for a signed type, no leading zero, no '+', no space,
// in the type's range.
template <class T>
T parse_number(const std::string& text, std::string_view field) {
  auto bad = [&]() -> ProtocolError {
    return ProtocolError(concat("'", field, "' is not a number in range: ", quoted(text)));
  };
  std::string_view digits = text;
  bool negative = std::is_signed_v<T> && digits.starts_with('-');
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || (digits[0] == '0' && (digits.size() > 1 || negative))) throw bad();
  for (char c : digits)
    if (c < '0' || c > '9') throw bad();
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) throw bad();
  return value;
}

void assign(std::string& out, const std::string& text, std::string_view) {
  out = text;
}
void assign(bool& out, const std::string& text, std::string_view field) {
  if (text != "true" && text != "false")
    throw ProtocolError(concat("'", field, "' is not true or false: ", quoted(text)));
  out = text == "true";
}
template <class T>
requires std::is_integral_v<T>
void assign(T& out, const std::string& text, std::string_view field) {
  out = parse_number<T>(text, field);
}

// Which of a table's fields a record has set (the tables have fewer than 32).
using Seen = std::bitset<32>;

// Sets the table's field named `name`; false when the table has none.
template <class S>
bool set_known(S& value, std::span<const Field<S>> fields, const std::string& name,
               const std::string& text, Seen& seen) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& field = fields[i];
    if (name != field.name) continue;
    if (seen.test(i)) throw ProtocolError(concat("'", name, "' given twice"));
    seen.set(i);
    std::visit([&](auto member) { assign(value.*member, text, name); }, field.member);
    return true;
  }
  return false;
}

void set_counter(Counters& counters, const std::string& name, const std::string& field,
                 const std::string& text) {
  if (name.empty()) throw ProtocolError(concat("'", field, "' names no counter"));
  if (!counters.emplace(name, parse_number<std::uint64_t>(text, field)).second)
    throw ProtocolError(concat("'", field, "' given twice"));
}

void set_interface_counter(InterfaceStatus& status, const std::string& field,
                           const std::string& text) {
  auto rest = std::string_view(field).substr(kCounterPrefix.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0)
    throw ProtocolError(concat("'", field, "' is not counter.GROUP.NAME"));
  set_counter(status.counters[std::string(rest.substr(0, dot))], std::string(rest.substr(dot + 1)),
              field, text);
}

InterfaceStatus parse_interface(const Record& record) {
  InterfaceStatus status;
  Seen seen;
  for (const auto& [name, text] : record.fields) {
    if (set_known<I>(status, kInterfaceFields, name, text, seen)) continue;
    if (name == "thread_frames")  // repeated: thread 0 first
      status.thread_frames.push_back(parse_number<std::uint64_t>(text, name));
    if (name.starts_with(kCounterPrefix)) set_interface_counter(status, name, text);
    // anything else: a field of a newer tund, ignored
  }
  return status;
}

PeerStatus parse_peer(const Record& record) {
  PeerStatus peer;
  Seen seen;
  for (const auto& [name, text] : record.fields) {
    if (set_known<P>(peer, kPeerFields, name, text, seen)) continue;
    if (name == "allowed_ip") peer.allowed_ips.push_back(text);
    if (name == "mac") peer.macs.push_back(text);
    if (name.starts_with(kDroppedPrefix))
      set_counter(peer.dropped, name.substr(kDroppedPrefix.size()), name, text);
  }
  return peer;
}

bool begins_with(const Record& record, std::string_view name) {
  return !record.fields.empty() && record.fields.front().first == name;
}

// The interface record and the peers' records after the header; records of another kind
// (from a newer tund) are skipped.
InterfaceStatus parse_status(std::span<const Record> records) {
  if (!begins_with(records.front(), "interface"))
    throw ProtocolError("a status reply without its interface record");
  InterfaceStatus status = parse_interface(records.front());
  for (const auto& record : records.subspan(1))
    if (begins_with(record, "peer")) status.peers.push_back(parse_peer(record));
  return status;
}

}  // namespace

std::string encode_status_reply(const InterfaceStatus& status) {
  std::vector<Record> records{header("ok"), interface_record(status)};
  records.reserve(2 + status.peers.size());
  for (const auto& peer : status.peers) records.push_back(peer_record(peer));
  return encode_records(records);
}

std::string encode_ok_reply(const std::string& message) {
  Record record = header("ok");
  record.add("message", message);
  return encode_records({record});
}

std::string encode_error_reply(const std::string& error) {
  Record record = header("error");
  record.add("error", error);
  return encode_records({record});
}

Reply parse_reply(std::string_view text) {
  auto records = parse_records(text, kMaxReplyBytes);
  if (records.empty()) throw ProtocolError("an empty reply");
  const Record& head = records.front();
  if (!begins_with(head, "protocol")) throw ProtocolError("a reply not starting with 'protocol'");
  detail::check_protocol(head.fields.front().second);
  const std::string* status = head.find("status");
  if (!status) throw ProtocolError("a reply without 'status'");
  Reply reply;
  if (*status == "error") {
    const std::string* error = head.find("error");
    if (!error) throw ProtocolError("an error reply without 'error'");
    reply.error = *error;
    return reply;
  }
  if (*status != "ok") throw ProtocolError(concat("unknown status ", quoted(*status)));
  reply.ok = true;
  if (const std::string* message = head.find("message")) reply.message = *message;
  if (records.size() > 1) reply.status = parse_status(std::span(records).subspan(1));
  return reply;
}

}  // namespace tund::control
