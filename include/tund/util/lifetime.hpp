// The one lifetime idiom for asynchronous handlers (issue 12: shared_from_this,
// a weak_ptr token and bare `this` + flags were mixed before). Every object that owns a
// socket, a timer, a lookup or a wait owns a Lifetime and wraps each handler it starts in
// guard(): the handler captures `this` and runs only while the object exists and has not
// ended the Lifetime (stop(), or a socket replaced by a new one). Asio runs the handlers of a
// closed or destroyed socket or timer later, with operation_aborted; guarded, they touch nothing.
//
// Objects are owned plainly (unique_ptr or members), never kept alive by their handlers:
// a TCP connection lives in its transport and dies with it, so nothing refers to a
// transport it can outlive.
#pragma once

#include <memory>
#include <utility>

namespace tund::util {

class Lifetime {
 public:
  Lifetime() = default;
  ~Lifetime() { *alive_ = false; }
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  // Wraps `handler` so that it does nothing once this Lifetime ended (or is destroyed).
  template <typename Handler>
  auto guard(Handler handler) const {
    return [alive = alive_, handler = std::move(handler)](auto&&... args) mutable {
      if (*alive) handler(std::forward<decltype(args)>(args)...);
    };
  }
  // Every handler guarded so far becomes a no-op; later ones run normally.
  void renew() {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
  }

 private:
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tund::util
