#include "tund/daemon/secure_channel.hpp"

#include "tund/proto/wire.hpp"

namespace tund::daemon {

std::size_t SecureChannel::seal(std::byte* message, std::size_t frame_size) {
  return session_.seal(message, frame_size, now());
}

std::size_t SecureChannel::header_size() const {
  return proto::kTransportHeaderSize;
}
std::size_t SecureChannel::overhead() const {
  return proto::kTransportOverhead;
}
std::size_t SecureChannel::initiation_size() const {
  return proto::kInitiationSize;
}

bool SecureChannel::write_initiation(std::byte* out) {
  return session_.write_initiation(out, now());
}

transport::SecurityVerdict SecureChannel::receive(std::byte* message, std::size_t size) {
  // receive() is called from the transports' handlers: whatever goes wrong inside (an
  // allocation failing, say) drops this message with a reason instead of escaping.
  try {
    return translate(session_.receive(message, size, now()));
  } catch (const std::exception& e) {
    transport::SecurityVerdict out;
    out.reason = std::string("internal error while processing the message: ") + e.what();
    return out;
  }
}

transport::SecurityVerdict SecureChannel::translate(crypto::Verdict v) {
  transport::SecurityVerdict out;
  using A = transport::SecurityVerdict::Action;
  switch (v.action) {
    case crypto::Action::drop:
      out.action = A::drop;
      break;
    case crypto::Action::deliver:
      out.action = A::deliver;
      break;
    case crypto::Action::reply:
      out.action = A::reply;
      break;
    case crypto::Action::none:
      out.action = A::none;
      break;
  }
  out.data = v.data;
  out.size = v.size;
  out.authenticated = v.authenticated;
  out.established = v.established;
  out.send_confirmation = v.send_confirmation;
  out.reason = std::move(v.reason);
  return out;
}

}  // namespace tund::daemon
