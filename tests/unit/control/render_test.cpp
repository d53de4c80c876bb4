// The forms of `tund show`: human text, JSON, dump; human units; the systemd status line.
#include "tund/control/render.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "unit/control/sample_status.hpp"

namespace tund::control {
namespace {

using test::lines_of;

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto at = line.find(sep); at != std::string::npos; at = line.find(sep, start)) {
    parts.push_back(line.substr(start, at - start));
    start = at + 1;
  }
  parts.push_back(line.substr(start));
  return parts;
}

TEST(ControlHuman, Durations) {
  EXPECT_EQ(human_duration(0), "0 seconds");
  EXPECT_EQ(human_duration(-5), "0 seconds");
  EXPECT_EQ(human_duration(1), "1 second");
  EXPECT_EQ(human_duration(59), "59 seconds");
  EXPECT_EQ(human_duration(60), "1 minute");
  EXPECT_EQ(human_duration(63), "1 minute, 3 seconds");
  EXPECT_EQ(human_duration(3601), "1 hour, 1 second");
  EXPECT_EQ(human_duration(2 * 86400 + 7200 + 120), "2 days, 2 hours, 2 minutes");
  EXPECT_EQ(human_duration(365 * 86400 + 86400), "1 year, 1 day");
  EXPECT_EQ(human_duration(INT64_MAX),
            "292471208677 years, 195 days, 15 hours, 30 minutes, 7 seconds");
}

TEST(ControlHuman, Bytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.00 KiB");
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(1024 * 1024 - 1), "1.00 MiB");  // not "1024.00 KiB"
  EXPECT_EQ(human_bytes(3ull << 30), "3.00 GiB");
  EXPECT_EQ(human_bytes(5ull << 40), "5.00 TiB");
  EXPECT_EQ(human_bytes(UINT64_MAX), "16.00 EiB");
}

TEST(ControlHuman, StatusLine) {
  auto hub = test::sample_status();
  EXPECT_EQ(status_line(hub), "1 of 3 peers up, rx 3.60 KiB tx 10.20 KiB");
  InterfaceStatus client;
  client.role = "client";
  client.peers_configured = 1;
  client.peers = {test::sample_peer("server")};
  EXPECT_EQ(status_line(client), "server up, rx 1.20 KiB tx 3.40 KiB");
  client.peers[0].up = false;
  EXPECT_EQ(status_line(client), "waiting for the server");
  client.remote = "198.18.0.1:55555";
  EXPECT_EQ(status_line(client), "waiting for the server at 198.18.0.1:55555");
}

TEST(ControlText, LooksLikeWgShow) {
  auto text = render_text({test::sample_status()});
  EXPECT_TRUE(text.starts_with("interface: tun0\n  mode: tun\n  role: hub\n")) << text;
  for (const char* expected :
       {"  listening port: 55555\n", "  uptime: 2 hours, 1 second\n", "  peers: 1 of 3 up\n",
        "  dropped: no_peer 2\n", "\npeer: alice\n", "  endpoint: 198.18.0.2:40000\n",
        "  allowed ips: 10.9.0.2/32, fd00:9::2/128\n", "  state: up for 1 hour\n",
        "  latest handshake: 1 minute, 3 seconds ago\n",
        "  transfer: 1.20 KiB received, 3.40 KiB sent\n", "  dropped: spoofed 5\n",
        "  cipher: ChaCha20-Poly1305\n", "\npeer: bob\n",
        "  state: down, last heard 2 seconds ago\n", "  endpoint: [fd00::2]:40001\n",
        "\npeer: carol\n", "  state: disabled\n", "  allowed ips: (none)\n",
        "  queued: 4 frames\n"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  EXPECT_NE(
      text.find("\n  mtu: 1420\n  threads: 2 (frames sealed/opened: 61% loop, 39% worker 1)\n"),
      std::string::npos)
      << text;
  // Drops by reason only when not zero: bob's are all zero, malformed is zero.
  EXPECT_EQ(text.find("malformed"), std::string::npos);
  EXPECT_EQ(text.find("queue_full"), std::string::npos);
  EXPECT_EQ(text.find("remote:"), std::string::npos);
}

// Each thread's share of the frames it sealed or opened, only with a worker pool.
TEST(ControlText, ThreadsAndTheirShareOfTheFrames) {
  auto s = test::sample_status();
  s.threads = 3;
  s.thread_frames = {1, 1, 1};  // 33.3% each, rounded
  EXPECT_NE(render_text({s}).find(
                "\n  threads: 3 (frames sealed/opened: 33% loop, 33% worker 1, 33% worker 2)\n"),
            std::string::npos)
      << render_text({s});
  s.thread_frames = {0, 0, 0};
  EXPECT_NE(render_text({s}).find("\n  threads: 3 (frames sealed/opened: none yet)\n"),
            std::string::npos);
  s.threads = 1;  // no pool: plaintext or --threads 1
  s.thread_frames = {};
  auto text = render_text({s});
  EXPECT_NE(text.find("\n  mtu: 1420\n  threads: 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("sealed"), std::string::npos);
}

TEST(ControlText, SeparatesInterfacesAndEscapesControlCharacters) {
  auto text = render_text({test::sample_status("tun0"), test::sample_status("e\x1b[2Jvil")});
  EXPECT_NE(text.find("\n\ninterface: e\\x1b[2Jvil\n"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(ControlText, AClientShowsItsRemote) {
  InterfaceStatus client = test::sample_status();
  client.role = "client";
  client.listen_port = 0;
  client.remote = "vpn.example.com:55555";
  client.public_key = "";
  auto text = render_text({client});
  EXPECT_NE(text.find("  remote: vpn.example.com:55555\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  public key: (none: plaintext)\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("listening port"), std::string::npos);
}

TEST(ControlJson, ParsesBackWithEveryField) {
  auto a = test::sample_status("tun0");
  a.interface = "t\xff\"0";  // not UTF-8, and a quote: still a valid document
  auto doc = nlohmann::json::parse(render_json({a, test::sample_status("tap1")}));
  EXPECT_EQ(doc["schema_version"], 1);
  ASSERT_EQ(doc["interfaces"].size(), 2u);
  const auto& i = doc["interfaces"][1];
  EXPECT_EQ(i["interface"], "tap1");
  EXPECT_EQ(doc["interfaces"][0]["interface"], "t\xef\xbf\xbd\"0");
  EXPECT_EQ(i["listen_port"], 55555);
  EXPECT_EQ(i["started"], 1'700'000'000 - 7201);
  EXPECT_EQ(i["peers_up"], 1);
  EXPECT_EQ(i["counters"]["device"]["reads"], 5);
  EXPECT_EQ(i["counters"]["dropped"]["no_peer"], 2);
  EXPECT_EQ(i["threads"], 2);
  EXPECT_EQ(i["thread_frames"], nlohmann::json({610, 390}));
  EXPECT_EQ(i.size(), 18u);
  ASSERT_EQ(i["peers"].size(), 3u);
  const auto& alice = i["peers"][0];
  EXPECT_EQ(alice["name"], "alice");
  EXPECT_EQ(alice["state"], "up");
  EXPECT_EQ(alice["up"], true);
  EXPECT_EQ(alice["allowed_ips"], nlohmann::json({"10.9.0.2/32", "fd00:9::2/128"}));
  EXPECT_EQ(alice["macs"], nlohmann::json::array());
  EXPECT_EQ(alice["latest_handshake"], 1'700'000'000 - 63);
  EXPECT_EQ(alice["rx_bytes"], 1229);
  EXPECT_EQ(alice["dropped"]["spoofed"], 5);
  EXPECT_EQ(alice.size(), 21u);
  EXPECT_EQ(i["peers"][2]["state"], "disabled");
}

// docs/tund-show.schema.json describes exactly what render_json writes (python3-jsonschema,
// as the end-to-end tests use it, when installed).
TEST(ControlJson, MatchesItsSchema) {
  if (std::system("python3 -c 'import jsonschema' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no python3-jsonschema";
  const std::string schema = TUND_SOURCE_DIR "/docs/tund-show.schema.json";
  const std::string check =
      "python3 -c \"import json, sys, jsonschema; "
      "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), "
      "cls=jsonschema.Draft202012Validator)\" {} " +
      schema;
  auto tap = test::sample_status("tap0");
  tap.mode = "tap";
  tap.role = "client";
  tap.peers[0].macs = {"02:00:00:00:00:01"};
  std::string output;
  EXPECT_EQ(test::run_with_file(check, render_json({test::sample_status(), tap}), output), 0)
      << output;
  // And the schema is strict: a field it does not know fails.
  auto doc = nlohmann::json::parse(render_json({tap}));
  doc["interfaces"][0]["peers"][0]["mood"] = "happy";
  output.clear();
  EXPECT_NE(test::run_with_file(check, doc.dump(), output), 0);
}

TEST(ControlDump, FifteenTabSeparatedFieldsPerPeer) {
  auto odd = test::sample_status("tun\t1");
  odd.peers[1].cipher = "";
  odd.threads = 1;  // no worker pool
  odd.thread_frames = {};
  auto lines = lines_of(render_dump({test::sample_status(), odd}));
  ASSERT_EQ(lines.size(), 6u);
  for (const auto& line : lines) EXPECT_EQ(split(line, '\t').size(), 15u) << line;
  EXPECT_EQ(lines[0],
            "tun0\talice\tHIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\tup\t198.18.0.2:40000\t"
            "10.9.0.2/32,fd00:9::2/128\t1699999937\t1229\t3482\t12\t34\t5\tChaCha20-Poly1305\t"
            "2\t610,390");
  EXPECT_EQ(lines[2],
            "tun0\tcarol\t(none)\tdisabled\t(none)\t(none)\t1699999937\t1229\t3482\t12\t"
            "34\t5\tChaCha20-Poly1305\t2\t610,390");
  EXPECT_TRUE(lines[3].starts_with("tun\\x091\talice\t")) << lines[3];
  EXPECT_TRUE(lines[4].ends_with("\t0\t(none)\t1\t(none)")) << lines[4];
}

TEST(ControlDump, TapPeersShowTheirMacs) {
  auto tap = test::sample_status("tap0");
  tap.mode = "tap";
  tap.peers[0].macs = {"02:00:00:00:00:01", "02:00:00:00:00:02"};
  auto lines = lines_of(render_dump({tap}));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(split(lines[0], '\t')[5], "02:00:00:00:00:01,02:00:00:00:00:02");
  EXPECT_EQ(split(lines[1], '\t')[5], "(none)");
}

}  // namespace
}  // namespace tund::control
