// The control protocol's parsers (records.hpp): any bytes either parse or throw
// ProtocolError, within the bounds; whatever parses encodes again and parses back to the
// same values (records, requests and whole status replies), and renders in every form.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tund/control/records.hpp"
#include "tund/control/render.hpp"

using namespace tund::control;

namespace {

void records_round_trip(std::string_view text) {
  std::vector<Record> records;
  try {
    records = parse_records(text, 8192);
  } catch (const ProtocolError&) {
    return;
  }
  auto again = parse_records(encode_records(records), SIZE_MAX);
  if (again.size() != records.size()) std::abort();
  for (std::size_t i = 0; i < records.size(); ++i)
    if (again[i].fields != records[i].fields) std::abort();
}

void request_round_trip(std::string_view text) {
  try {
    auto request = parse_request(text);
    auto again = parse_request(encode_request(request));
    if (again.command != request.command || again.peer != request.peer) std::abort();
  } catch (const ProtocolError&) {
  }
}

void reply_round_trip(std::string_view text) {
  Reply reply;
  try {
    reply = parse_reply(text);
  } catch (const ProtocolError&) {
    return;
  }
  if (!reply.status) return;
  // A status the parser accepted is one the encoder can write (names came from valid
  // lines), and it comes back the same.
  auto again = parse_reply(encode_status_reply(*reply.status));
  if (!again.ok || !again.status || !(*again.status == *reply.status)) std::abort();
  std::vector<InterfaceStatus> statuses{*reply.status};
  render_text(statuses);
  render_json(statuses);
  render_dump(statuses);
  render_prometheus(statuses);
  status_line(*reply.status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  records_round_trip(text);
  request_round_trip(text);
  reply_round_trip(text);
  return 0;
}
