// One swarm client: what `tund -c SERVER --private-key K --peer-key S` builds
// (src/daemon/startup.cpp: an identity, an initiator peer with a session, a UDP or TCP
// client transport, the engine), with an in-memory device (swarm_device.hpp) instead of
// a TUN/TAP device. No root needed; every client has its own key and its own socket.
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "swarm/swarm_device.hpp"
#include "tund/crypto/identity.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/tunnel/engine.hpp"
#include "tund/util/log.hpp"

namespace tund::swarm {

// What every client shares.
struct SwarmSettings {
  transport::RemoteServer server;  // name, port and the addresses looked up once
  bool udp = false;
  bool tap = false;
  crypto::Key server_public{};
  std::optional<crypto::Key> psk;
  unsigned mtu = 1400;
  std::chrono::milliseconds keepalive{10000};
  util::LogLevel log_level = util::LogLevel::warn;
};

// What is each client's own.
struct ClientSpec {
  std::string name;  // the peer file's name on the hub
  link::Ipv4 address{};
  unsigned prefix_len = 32;
  crypto::Key private_key{};
  std::optional<asio::ip::address> source;  // local address to send from (127.x)
};

class SwarmClient {
 public:
  // `index` numbers the client (its echo identifier). Throws std::runtime_error (one
  // line) when the client cannot be built (an unusable key, a source address that
  // cannot be bound).
  SwarmClient(asio::io_context& io, const SwarmSettings& settings, ClientSpec spec,
              std::uint16_t index);
  ~SwarmClient();
  SwarmClient(const SwarmClient&) = delete;
  SwarmClient& operator=(const SwarmClient&) = delete;

  void start();
  void stop();
  void on_timer() { engine_->on_timer(); }  // every proto::kTimerTick
  bool up() const { return engine_->peer().up(); }
  bool send_ping(const link::Ipv4& to) { return device_.send_ping(to); }
  // Told whenever this client's session comes or goes (whatever the engine's observer
  // passes: the state is read from up()).
  void set_observer(std::function<void()> observer) {
    engine_->set_peer_observer([observer = std::move(observer)](auto&&...) { observer(); });
  }
  const std::string& name() const { return spec_.name; }
  const SwarmDevice& device() const { return device_; }
  const tunnel::Engine& engine() const { return *engine_; }
  const transport::Transport& transport() const { return *transport_; }

 private:
  ClientSpec spec_;
  util::Logger log_;
  SwarmDevice device_;
  std::unique_ptr<crypto::Identity> identity_;
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<tunnel::Engine> engine_;
};

}  // namespace tund::swarm
