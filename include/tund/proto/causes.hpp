// What a client can tell its user when the server stays silent: the server answers nothing
// it cannot authenticate, so the client only knows the possible causes. Shared by the
// tunnel (unanswered handshake initiations) and the TCP client (a connection closed
// before its handshake completed).
#pragma once

namespace tund::proto {

// A clock stepped back: the server refuses handshake timestamps older than the last one
// it accepted for this key, and logs it.
inline constexpr const char* kUnansweredHandshakeCauses =
    "wrong --peer-key, client key not allowed, psk mismatch, this client's clock stepped "
    "back (see the server's log), encryption off on the server, or server down";

}  // namespace tund::proto
