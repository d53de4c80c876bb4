// Helpers for the control module's tests. Statuses: every field set to something other than its
// default, so a round trip or a renderer that forgets one shows it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tund/control/status.hpp"

namespace tund::control::test {

inline PeerStatus sample_peer(const std::string& name) {
  PeerStatus p;
  p.name = name;
  p.public_key = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
  p.up = true;
  p.endpoint = "198.18.0.2:40000";
  p.allowed_ips = {"10.9.0.2/32", "fd00:9::2/128"};
  p.latest_handshake = 1'700'000'000 - 63;
  p.up_since = 1'700'000'000 - 3600;
  p.last_received = 1'700'000'000 - 2;
  p.rx_bytes = 1229;  // 1.20 KiB
  p.rx_packets = 12;
  p.tx_bytes = 3482;  // 3.40 KiB
  p.tx_packets = 34;
  p.handshakes = 3;
  p.sessions = 2;
  p.endpoint_changes = 1;
  p.queued = 4;
  p.cipher = "ChaCha20-Poly1305";
  p.dropped = {{"queue_full", 0}, {"spoofed", 5}};
  return p;
}

inline InterfaceStatus sample_status(const std::string& interface = "tun0") {
  InterfaceStatus s;
  s.interface = interface;
  s.mode = "tun";
  s.role = "hub";
  s.transport = "udp";
  s.listen_port = 55555;
  s.remote = "";
  s.public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  s.version = "0.1.0";
  s.pid = 4242;
  s.started = 1'700'000'000 - 7201;
  s.now = 1'700'000'000;
  s.mtu = 1420;
  s.peers_configured = 3;
  s.threads = 2;
  s.thread_frames = {610, 390};  // 61% on the event loop's thread, 39% on worker 1
  s.counters = {{"device", {{"reads", 5}, {"writes", 7}}},
                {"dropped", {{"malformed", 0}, {"no_peer", 2}}},
                {"handshake", {{"completed", 3}, {"failed", 1}}}};
  PeerStatus bob = sample_peer("bob");
  bob.up = false;
  bob.up_since = 0;
  bob.endpoint = "[fd00::2]:40001";
  bob.allowed_ips = {"10.9.0.3/32"};
  bob.dropped = {{"queue_full", 0}, {"spoofed", 0}};
  PeerStatus carol = sample_peer("carol");
  carol.up = false;
  carol.disabled = true;
  carol.endpoint = "";
  carol.public_key = "";
  carol.allowed_ips = {};
  s.peers = {sample_peer("alice"), bob, carol};
  return s;
}

// The lines of `text`, without their line ends.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// Runs `command` (by the shell, {} replaced by the path of a temporary file holding
// `input`); returns its exit status and appends what it wrote (stdout and stderr) to
// `output`.
inline int run_with_file(std::string command, const std::string& input, std::string& output) {
  // Unique per process: ctest runs the tests of one binary as parallel processes.
  std::string path = testing::TempDir() + "tund_control_test_" + std::to_string(getpid());
  std::ofstream(path) << input;
  command.replace(command.find("{}"), 2, path);
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int status = pclose(pipe);
  std::remove(path.c_str());
  return status;
}

}  // namespace tund::control::test
