// A dual-stack hub: kernel routes for peers' prefixes outside EVERY --address of the
// device, and a reload that changes any address or peer asks for a restart.
#include <gtest/gtest.h>

#include "tund/config/threads.hpp"
#include "tund/daemon/hub_peers.hpp"
#include "tund/daemon/hub_routes.hpp"

namespace tund::daemon {
namespace {

tunnel::HubPeerSpec peer_with(const std::vector<std::string>& prefixes) {
  tunnel::HubPeerSpec spec;
  for (const auto& text : prefixes) spec.allowed_ips.push_back(*util::parse_ip_prefix(text));
  return spec;
}

std::vector<std::string> texts(const std::vector<util::IpPrefix>& prefixes) {
  std::vector<std::string> out;
  for (const auto& p : prefixes) out.push_back(util::to_string(p));
  return out;
}

TEST(HubAddresses, RoutesOnlyWhatNoAddressOfTheDeviceHolds) {
  std::vector<tunnel::HubPeerSpec> peers = {
      peer_with({"10.8.0.2/32", "192.168.5.0/24", "fd00:8::2/128", "fd00:99::/64"}),
      peer_with({"10.8.0.3/32", "fd00:8::3/128", "0.0.0.0/0"})};
  std::vector<config::DeviceAddress> own = {{"10.8.0.1/24", ""}, {"fd00:8::1/64", ""}};
  EXPECT_EQ(texts(routed_prefixes(own, peers)),
            (std::vector<std::string>{"192.168.5.0/24", "fd00:99::/64"}));
  // IPv4 only: every IPv6 prefix needs a route.
  EXPECT_EQ(texts(routed_prefixes({{"10.8.0.1/24", ""}}, peers)),
            (std::vector<std::string>{"192.168.5.0/24", "fd00:8::2/128", "fd00:8::3/128",
                                      "fd00:99::/64"}));
  EXPECT_EQ(texts(routed_prefixes({}, peers)).size(), 6u);
}

TEST(HubAddresses, AnyChangeOfTheAddressListNeedsARestart) {
  config::Config running, fresh;
  running.addresses = {{"10.8.0.1/24", ""}, {"fd00:8::1/64", ""}};
  fresh = running;
  EXPECT_TRUE(needs_restart(running, fresh).empty());
  fresh.addresses.pop_back();  // the second one removed: the first unchanged
  EXPECT_EQ(needs_restart(running, fresh), std::vector<std::string>{"address/peer"});
  fresh = running;
  fresh.addresses[1].peer = "fd00:8::2";
  EXPECT_EQ(needs_restart(running, fresh), std::vector<std::string>{"address/peer"});
  fresh = running;
  fresh.link_ip6 = "fd00:8::9";
  EXPECT_EQ(needs_restart(running, fresh), std::vector<std::string>{"link-ip"});
}

// The worker pool is made at start (--threads): a reload says so rather than ignore it.
TEST(HubAddresses, AChangedThreadCountNeedsARestart) {
  config::Config running, fresh;
  running.threads = 2;
  fresh = running;
  EXPECT_TRUE(needs_restart(running, fresh).empty());
  fresh.threads = 1;
  EXPECT_EQ(needs_restart(running, fresh), std::vector<std::string>{"threads"});
  // auto (0) is one per usable CPU: the same pool as that number, no restart needed.
  running.threads = config::effective_threads(0);
  fresh.threads = 0;
  EXPECT_TRUE(needs_restart(running, fresh).empty());
}

// The cipher is chosen at start-up (measured, offered in every handshake): a reload that
// changes --cipher says so rather than pretending to apply it.
TEST(HubAddresses, ACipherChangeNeedsARestart) {
  config::Config running, fresh;
  EXPECT_TRUE(needs_restart(running, fresh).empty());
  fresh.cipher = config::Cipher::chacha20poly1305;
  EXPECT_EQ(needs_restart(running, fresh), std::vector<std::string>{"cipher"});
}

}  // namespace
}  // namespace tund::daemon
