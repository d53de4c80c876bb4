// The control line protocol: records, requests and replies (docs/CONTROL.md).
#include "tund/control/records.hpp"

#include <gtest/gtest.h>

#include <string>

#include "unit/control/sample_status.hpp"

namespace tund::control {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// The ProtocolError's message of parse(text); "" when it parses.
template <class Parse>
std::string error_of(Parse parse, std::string_view text) {
  try {
    parse(text);
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "";
}

std::string records_error(std::string_view text, std::size_t max = 4096) {
  return error_of([max](std::string_view t) { return parse_records(t, max); }, text);
}
std::string request_error(std::string_view text) {
  return error_of(parse_request, text);
}
std::string reply_error(std::string_view text) {
  return error_of(parse_reply, text);
}

// ---- records --------------------------------------------------------------------------

TEST(ControlRecords, BlankLinesSeparateRecords) {
  auto records = parse_records("a = 1\nb.c-d_e = two words\n\n\n\nc = 3", 4096);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{{"a", "1"}, {"b.c-d_e", "two words"}}));
  EXPECT_EQ(records[1].fields, (Fields{{"c", "3"}}));
  EXPECT_TRUE(parse_records("", 4096).empty());
  EXPECT_TRUE(parse_records("\n\n  \n", 4096).empty());
}

TEST(ControlRecords, SpacesAroundTheEqualsSignAreOptional) {
  auto records = parse_records("a=1\nb   =   2\nc= \nd =x=y\n", 4096);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (Fields{{"a", "1"}, {"b", "2"}, {"c", ""}, {"d", "x=y"}}));
}

TEST(ControlRecords, CrLfLineEndsAreTolerated) {
  auto records = parse_records("a = 1\r\nb = 2\r\n\r\nc = 3\r\n", 4096);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{{"a", "1"}, {"b", "2"}}));
}

TEST(ControlRecords, FindGivesTheFirstValue) {
  auto records = parse_records("a = 1\na = 2\n", 4096);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_NE(records[0].find("a"), nullptr);
  EXPECT_EQ(*records[0].find("a"), "1");
  EXPECT_EQ(records[0].find("b"), nullptr);
}

TEST(ControlRecords, RefusesALineWithoutEquals) {
  EXPECT_EQ(records_error("a = 1\nfoo\n"), "line 2: no '=' in 'foo'");
}

TEST(ControlRecords, RefusesAnEmptyOrInvalidName) {
  EXPECT_NE(records_error("= 1\n").find("line 1: invalid name ''"), std::string::npos);
  for (const char* bad : {"Foo = 1", "a b = 1", "a/b = 1", "\xc3\xa9 = 1", "a:b = 1"})
    EXPECT_NE(records_error(bad).find("invalid name"), std::string::npos) << bad;
}

TEST(ControlRecords, RefusesAControlCharacter) {
  EXPECT_EQ(records_error("a = b\tc\n"), "line 1: a control character (0x09) at column 6");
  EXPECT_NE(records_error("a = b\rc\n").find("(0x0d)"), std::string::npos);  // not CRLF
  EXPECT_NE(records_error("a = \x7f\n").find("(0x7f)"), std::string::npos);
  EXPECT_NE(records_error(std::string("a = b\0c", 7)).find("(0x00)"), std::string::npos);
}

TEST(ControlRecords, RefusesMoreThanTheBound) {
  std::string text = "a = ";
  text.append(100, 'x');
  text += '\n';
  EXPECT_EQ(records_error(text, text.size()), "");
  EXPECT_EQ(records_error(text, text.size() - 1), "105 bytes, over the limit of 104");
}

TEST(ControlRecords, RefusesABadEscape) {
  for (const char* bad : {"a = \\q", "a = \\", "a = x\\x4", "a = \\xg0", "a = \\X41"})
    EXPECT_NE(records_error(bad).find("backslash"), std::string::npos) << bad;
  EXPECT_EQ(parse_records("a = \\x41\\\\\\x0A", 4096)[0].fields[0].second, "A\\\n");
}

TEST(ControlRecords, AnyValueSurvivesEncodingOnOneLine) {
  std::string odd =
      " lead\ttab\nline\r\\back\x01\x7f"
      "caf\xc3\xa9 trail ";
  Record record;
  record.add("odd", odd);
  record.add("empty", "");
  record.add("spaces", "   ");
  auto text = encode_records({record, record});
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    EXPECT_FALSE((byte < 0x20 && c != '\n') || byte == 0x7f) << text;
  }
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 8);  // 3 lines + blank, twice
  auto back = parse_records(text, 4096);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].fields, record.fields);
  EXPECT_EQ(back[1].fields, record.fields);
}

TEST(ControlRecords, EncodeRefusesWhatCannotBeWritten) {
  Record bad_name;
  bad_name.add("Bad Name", "x");
  EXPECT_THROW(encode_records({bad_name}), ProtocolError);
  Record line_break_name;
  line_break_name.add("a\nb", "x");
  EXPECT_THROW(encode_records({line_break_name}), ProtocolError);
  EXPECT_THROW(encode_records({Record{}}), ProtocolError);
}

// ---- requests -------------------------------------------------------------------------

TEST(ControlRequest, RoundTripsEveryCommand) {
  for (auto command : {Command::show, Command::reload, Command::disconnect}) {
    Request request{command, command == Command::disconnect
                                 ? "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
                                 : ""};
    auto text = encode_request(request);
    EXPECT_TRUE(text.starts_with("protocol = 1\ncommand = ")) << text;
    auto back = parse_request(text);
    EXPECT_EQ(back.command, request.command);
    EXPECT_EQ(back.peer, request.peer);
  }
}

TEST(ControlRequest, TheProtocolLineIsOptional) {
  auto request = parse_request("command=disconnect\npeer=alice.home-1\n");
  EXPECT_EQ(request.command, Command::disconnect);
  EXPECT_EQ(request.peer, "alice.home-1");
}

TEST(ControlRequest, Refusals) {
  EXPECT_EQ(request_error(""), "an empty request");
  EXPECT_EQ(request_error("command = show\n\ncommand = show\n"),
            "more than one record in a request");
  EXPECT_EQ(request_error("protocol = 1\n"), "no 'command' in the request");
  EXPECT_EQ(request_error("command = stop\n"), "unknown command 'stop' (show, reload, disconnect)");
  EXPECT_EQ(request_error("command = disconnect\n"), "disconnect needs a 'peer'");
  EXPECT_EQ(request_error("command = show\npeer = alice\n"), "'peer' is not taken by show");
  EXPECT_EQ(request_error("protocol = 2\ncommand = show\n"),
            "control protocol '2' is not supported (this tund speaks 1)");
  EXPECT_EQ(request_error("command = show\nverbose = 1\n"), "unknown field 'verbose' in a request");
  EXPECT_EQ(request_error("command = show\ncommand = reload\n"), "'command' given twice");
  EXPECT_EQ(request_error("command = disconnect\npeer = a b\n"),
            "invalid peer 'a b' (a name or a public key)");
  EXPECT_EQ(request_error("command = disconnect\npeer = \\x01\n"),
            "invalid peer '\\x01' (a name or a public key)");
  EXPECT_NE(request_error(std::string("command = show\n").append(kMaxRequestBytes, '\n'))
                .find("over the limit of 4096"),
            std::string::npos);
}

TEST(ControlRequest, OnlyShowLeavesStateAlone) {
  EXPECT_FALSE(changes_state(Command::show));
  EXPECT_TRUE(changes_state(Command::reload));
  EXPECT_TRUE(changes_state(Command::disconnect));
}

// ---- replies --------------------------------------------------------------------------

TEST(ControlReply, AStatusRoundTripsEveryField) {
  auto status = test::sample_status();
  status.peers[0].macs = {"02:00:00:00:00:01", "02:00:00:00:00:02"};
  status.counters["transport"] = {{"rx_bytes", UINT64_MAX}};
  status.pid = INT64_MAX;
  status.listen_port = 65535;
  status.mtu = 4294967295u;
  auto text = encode_status_reply(status);
  EXPECT_TRUE(text.starts_with("protocol = 1\nstatus = ok\n\ninterface = tun0\n")) << text;
  EXPECT_NE(text.find("\ncounter.device.reads = 5\n"), std::string::npos);
  EXPECT_NE(text.find("\n\npeer = alice\n"), std::string::npos);
  EXPECT_NE(text.find("\ndropped.spoofed = 5\n"), std::string::npos);
  EXPECT_NE(text.find("\nallowed_ip = fd00:9::2/128\n"), std::string::npos);
  EXPECT_NE(text.find("\nthreads = 2\nthread_frames = 610\nthread_frames = 390\n"),
            std::string::npos)
      << text;
  auto reply = parse_reply(text);
  EXPECT_TRUE(reply.ok);
  ASSERT_TRUE(reply.status);
  EXPECT_EQ(*reply.status, status);
}

TEST(ControlReply, AnOddInterfaceNameRoundTrips) {
  auto status = test::sample_status(" t\\u\n\x01n ");
  auto reply = parse_reply(encode_status_reply(status));
  ASSERT_TRUE(reply.status);
  EXPECT_EQ(reply.status->interface, status.interface);
}

TEST(ControlReply, OkAndErrorReplies) {
  auto ok = parse_reply(encode_ok_reply("reloaded: 3 peers"));
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.message, "reloaded: 3 peers");
  EXPECT_FALSE(ok.status);
  auto error = parse_reply(encode_error_reply("no peer 'mallory'"));
  EXPECT_FALSE(error.ok);
  EXPECT_EQ(error.error, "no peer 'mallory'");
  EXPECT_EQ(encode_error_reply("x"), "protocol = 1\nstatus = error\nerror = x\n\n");
}

TEST(ControlReply, UnknownFieldsAndRecordsAreIgnoredAndMissingOnesDefault) {
  auto reply = parse_reply(
      "protocol = 1\nstatus = ok\nserver_time_zone = UTC\n\n"
      "interface = tun7\nmtu = 1400\ncolour = blue\n\n"
      "route = 10.0.0.0/8\n\n"
      "peer = alice\nrx_bytes = 10\nmood = happy\n");
  ASSERT_TRUE(reply.status);
  EXPECT_EQ(reply.status->interface, "tun7");
  EXPECT_EQ(reply.status->mtu, 1400u);
  EXPECT_EQ(reply.status->pid, 0);
  EXPECT_EQ(reply.status->threads, 1u);  // an older tund: one thread, no frames by thread
  EXPECT_TRUE(reply.status->thread_frames.empty());
  ASSERT_EQ(reply.status->peers.size(), 1u);
  EXPECT_EQ(reply.status->peers[0].rx_bytes, 10u);
  EXPECT_TRUE(reply.status->peers[0].dropped.empty());
}

TEST(ControlReply, RefusesAnotherProtocolOrAMissingHeader) {
  EXPECT_EQ(reply_error(""), "an empty reply");
  EXPECT_EQ(reply_error("protocol = 2\nstatus = ok\n"),
            "control protocol '2' is not supported (this tund speaks 1)");
  EXPECT_EQ(reply_error("status = ok\nprotocol = 1\n"), "a reply not starting with 'protocol'");
  EXPECT_EQ(reply_error("protocol = 1\n"), "a reply without 'status'");
  EXPECT_EQ(reply_error("protocol = 1\nstatus = maybe\n"), "unknown status 'maybe'");
  EXPECT_EQ(reply_error("protocol = 1\nstatus = error\n"), "an error reply without 'error'");
  EXPECT_EQ(reply_error("protocol = 1\nstatus = ok\n\npeer = alice\n"),
            "a status reply without its interface record");
}

TEST(ControlReply, RefusesANumberThatIsNotOne) {
  const std::string head = "protocol = 1\nstatus = ok\n\ninterface = tun0\n";
  for (const char* bad :
       {"mtu = abc", "mtu = -1", "mtu = 01", "mtu = +1", "mtu = 1.5", "mtu = 1e3",
        "mtu =", "mtu = 4294967296", "listen_port = 65536", "pid = -0", "pid = 9223372036854775808",
        "pid = --1", "counter.device.reads = 18446744073709551616", "counter.device.reads = x",
        "threads = 4294967296", "thread_frames = -1", "thread_frames ="})
    EXPECT_NE(reply_error(head + bad + "\n").find("is not a number in range"), std::string::npos)
        << bad;
  EXPECT_EQ(reply_error(head + "\npeer = a\nup = yes\n"), "'up' is not true or false: 'yes'");
  EXPECT_NE(reply_error(head + "\npeer = a\ndropped.spoofed = -1\n").find("not a number"),
            std::string::npos);
  EXPECT_EQ(reply_error(head + "pid = -12\n"), "");  // signed fields take a sign
}

TEST(ControlReply, RefusesAFieldTwiceAndMalformedCounters) {
  const std::string head = "protocol = 1\nstatus = ok\n\ninterface = tun0\n";
  EXPECT_EQ(reply_error(head + "mtu = 1\nmtu = 2\n"), "'mtu' given twice");
  EXPECT_EQ(reply_error(head + "counter.a.b = 1\ncounter.a.b = 1\n"), "'counter.a.b' given twice");
  EXPECT_EQ(reply_error(head + "counter.device = 1\n"),
            "'counter.device' is not counter.GROUP.NAME");
  EXPECT_EQ(reply_error(head + "counter.device. = 1\n"), "'counter.device.' names no counter");
  EXPECT_EQ(reply_error(head + "\npeer = a\ndropped. = 1\n"), "'dropped.' names no counter");
}

TEST(ControlReply, EncodeRefusesACounterNameThatWouldNotComeBack) {
  auto status = test::sample_status();
  status.counters["a.b"] = {{"c", 1}};
  EXPECT_THROW(encode_status_reply(status), ProtocolError);
  status = test::sample_status();
  status.counters["device"][""] = 1;
  EXPECT_THROW(encode_status_reply(status), ProtocolError);
}

}  // namespace
}  // namespace tund::control
