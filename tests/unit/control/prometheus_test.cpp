// render_prometheus: the text exposition format 0.0.4, and Prometheus' naming rules.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tund/control/render.hpp"
#include "unit/control/sample_status.hpp"

namespace tund::control {
namespace {

using test::lines_of;

std::string metric_name(const std::string& sample) {
  return sample.substr(0, sample.find_first_of("{ "));
}

std::string two_interfaces() {
  return render_prometheus({test::sample_status("tun0"), test::sample_status("tun1")});
}

TEST(ControlPrometheus, HelpAndTypeOncePerFamilyAndSamplesGrouped) {
  std::map<std::string, int> helps, types;
  std::set<std::string> finished;  // families whose group of samples has ended
  std::string current;
  for (const auto& line : lines_of(two_interfaces())) {
    std::string name =
        line.starts_with("# ") ? line.substr(7, line.find(' ', 7) - 7) : metric_name(line);
    if (line.starts_with("# HELP ")) ++helps[name];
    if (line.starts_with("# TYPE ")) ++types[name];
    if (name != current) {
      EXPECT_FALSE(finished.count(name)) << name << " is split in two groups";
      if (!current.empty()) finished.insert(current);
      current = name;
    }
  }
  EXPECT_GT(helps.size(), 20u);
  for (const auto& [name, count] : helps) EXPECT_EQ(count, 1) << name;
  for (const auto& [name, count] : types) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(helps.size(), types.size());
}

TEST(ControlPrometheus, EverySeriesHasTheInterfaceLabel) {
  int samples = 0;
  for (const auto& line : lines_of(two_interfaces())) {
    if (line.starts_with("#")) continue;
    ++samples;
    EXPECT_TRUE(line.find("{interface=\"tun0\"") != std::string::npos ||
                line.find("{interface=\"tun1\"") != std::string::npos)
        << line;
  }
  EXPECT_GT(samples, 60);
}

TEST(ControlPrometheus, CountersEndInTotalAndGaugesDoNot) {
  for (const auto& line : lines_of(two_interfaces())) {
    if (!line.starts_with("# TYPE ")) continue;
    std::istringstream in(line.substr(7));
    std::string name, type;
    in >> name >> type;
    EXPECT_EQ(type == "counter", name.ends_with("_total")) << line;
    EXPECT_TRUE(type == "counter" || type == "gauge") << line;
  }
}

TEST(ControlPrometheus, TheNamedSeries) {
  auto text = render_prometheus({test::sample_status()});
  for (const char* expected :
       {"\ntund_build_info{interface=\"tun0\",version=\"0.1.0\"} 1\n",
        "\ntund_start_time_seconds{interface=\"tun0\"} 1699992799\n",
        "\ntund_mtu{interface=\"tun0\"} 1420\n", "\ntund_peers_up{interface=\"tun0\"} 1\n",
        "\ntund_peers_configured{interface=\"tun0\"} 3\n",
        "\n# TYPE tund_threads gauge\ntund_threads{interface=\"tun0\"} 2\n",
        "\n# TYPE tund_thread_frames_total counter\n"
        "tund_thread_frames_total{interface=\"tun0\",thread=\"0\"} 610\n"
        "tund_thread_frames_total{interface=\"tun0\",thread=\"1\"} 390\n",
        "\ntund_dropped_packets_total{interface=\"tun0\",reason=\"no_peer\"} 2\n",
        "\ntund_handshakes_total{interface=\"tun0\",result=\"failed\"} 1\n",
        "\ntund_device_reads_total{interface=\"tun0\"} 5\n",
        "\ntund_peer_receive_bytes_total{interface=\"tun0\",peer=\"alice\"} 1229\n",
        "\ntund_peer_transmit_bytes_total{interface=\"tun0\",peer=\"alice\"} 3482\n",
        "\ntund_peer_receive_packets_total{interface=\"tun0\",peer=\"alice\"} 12\n",
        "\ntund_peer_transmit_packets_total{interface=\"tun0\",peer=\"alice\"} 34\n",
        "\ntund_peer_dropped_packets_total{interface=\"tun0\",peer=\"alice\",reason=\"spoofed\"} "
        "5\n",
        "\ntund_peer_last_handshake_timestamp_seconds{interface=\"tun0\",peer=\"alice\"} "
        "1699999937\n",
        "\ntund_peer_up{interface=\"tun0\",peer=\"bob\"} 0\n",
        "\ntund_peer_info{interface=\"tun0\",peer=\"alice\",public_key="
        "\"HIgo9xNzJMWLKASShiTqIybxZ0U3"
        "wGLiUeJ1PKf8ykw=\",endpoint=\"198.18.0.2:40000\",cipher=\"ChaCha20-Poly1305\"} 1\n",
        "\n# HELP tund_peer_up 1 when the peer is up.\n# TYPE tund_peer_up gauge\n"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << text;
}

// Without a worker pool nothing counts frames by thread: no series rather than zeros.
TEST(ControlPrometheus, OneThreadWithoutAPool) {
  auto status = test::sample_status();
  status.threads = 1;
  status.thread_frames = {};
  auto text = render_prometheus({status});
  EXPECT_NE(text.find("\ntund_threads{interface=\"tun0\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("tund_thread_frames_total"), std::string::npos) << text;
}

TEST(ControlPrometheus, ANewCounterGroupNeedsNoRendererChange) {
  auto status = test::sample_status();
  status.counters["new-group"] = {{"odd.name", 9}};
  auto text = render_prometheus({status});
  EXPECT_NE(text.find("\n# TYPE tund_new_group_odd_name_total counter\n"
                      "tund_new_group_odd_name_total{interface=\"tun0\"} 9\n"),
            std::string::npos)
      << text;
}

TEST(ControlPrometheus, LabelValuesAreEscaped) {
  auto status = test::sample_status("tun0");
  status.peers[0].name = "a\"b\\c\nd";
  status.version = "v\xff";  // not UTF-8: U+FFFD
  auto text = render_prometheus({status});
  EXPECT_NE(text.find("peer=\"a\\\"b\\\\c\\nd\""), std::string::npos) << text;
  EXPECT_NE(text.find("version=\"v\xef\xbf\xbd\""), std::string::npos) << text;
}

TEST(ControlPrometheus, NothingForNoInterfaces) {
  EXPECT_EQ(render_prometheus({}), "");
}

// Debian's promtool, when installed, checks the format and the naming rules ("lint").
TEST(ControlPrometheus, PromtoolAcceptsIt) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "no promtool";
  auto status = test::sample_status("tun0");
  status.peers[0].name = "quote\"back\\slash";
  status.counters["new-group"] = {{"odd.name", 9}};
  std::string output;
  int code = test::run_with_file("promtool check metrics < {}",
                                 render_prometheus({status, test::sample_status("tun1")}), output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace tund::control
