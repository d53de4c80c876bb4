#include "tund/daemon/metrics_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tund/control/render.hpp"

namespace tund::daemon {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::size_t kWorkers = 2;    // scrapes are rare; two let one be slow
constexpr std::size_t kMaxQueued = 8;  // accepted, waiting for a worker
constexpr std::size_t kKeepAliveRequests = 5;
constexpr time_t kKeepAliveSeconds = 1;    // an idle scraper's connection is closed soon
constexpr std::size_t kMaxPayload = 4096;  // GET has no body; anything bigger is refused

// httplib's ThreadPool queues every accepted connection without a bound: 1000 hostile
// connections would hold 1000 descriptors (the daemon's own limit is near that) until the
// workers reach them. Here a full queue makes the accepting thread serve the connection
// itself, so it stops accepting meanwhile and the rest wait in the kernel's listen backlog:
// at most kWorkers + kMaxQueued + 1 connections are open at once, on kWorkers + 1 threads.
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool() {
    for (std::size_t i = 0; i < kWorkers; ++i) threads_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (jobs_.size() < kMaxQueued) {
        jobs_.push_back(std::move(fn));
        lock.unlock();
        cond_.notify_one();
        return;
      }
    }
    fn();  // on the accepting thread: backpressure
  }
  // Runs what is queued (httplib closes each connection at once once the server is
  // stopped) and joins the workers.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cond_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cond_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// httplib's default sets SO_REUSEPORT, which would let a second tund bind the same port
// and take half the scrapes: only SO_REUSEADDR (a restart binds despite TIME_WAIT).
void socket_options(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

std::string listen_text(const std::string& host, std::uint16_t port) {
  std::string text = "--metrics-listen ";
  if (host.find(':') != std::string::npos)
    text += "[" + host + "]";
  else
    text += host;
  text += ":" + std::to_string(port);
  return text;
}

}  // namespace

struct MetricsServer::State {
  std::string host;
  std::uint16_t port = 0;
  Snapshot snapshot;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> finished{false};
  std::atomic<std::uint64_t> scrapes{0};

  void answer_metrics(httplib::Response& res);
  void set_up();
};

void MetricsServer::State::answer_metrics(httplib::Response& res) {
  // No exception may leave a handler thread (it would reach std::terminate), and nothing
  // is logged here (the Logger belongs to the event loop): the status code tells.
  try {
    std::optional<control::InterfaceStatus> status = snapshot();
    if (!status) {
      res.status = 503;
      res.set_content("tund: no status available now\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_content(control::render_prometheus({*status}), kContentType);
    res.status = 200;
    scrapes.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    res.status = 500;
    res.set_content("tund: internal error\n", "text/plain; charset=utf-8");
  }
}

void MetricsServer::State::set_up() {
  server.new_task_queue = [] { return new BoundedPool; };
  server.set_socket_options(socket_options);
  server.set_read_timeout(kMetricsTimeout);
  server.set_write_timeout(kMetricsTimeout);
  server.set_keep_alive_max_count(kKeepAliveRequests);
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_payload_max_length(kMaxPayload);
  server.Get("/metrics",
             [this](const httplib::Request&, httplib::Response& res) { answer_metrics(res); });
  auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
  };
  server.Post(".*", not_allowed);
  server.Put(".*", not_allowed);
  server.Patch(".*", not_allowed);
  server.Delete(".*", not_allowed);
  server.Options(".*", not_allowed);
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { res.status = 500; });
}

MetricsServer::MetricsServer(std::string host, std::uint16_t port, Snapshot snapshot)
    : state_(std::make_unique<State>()) {
  state_->host = std::move(host);
  state_->port = port;
  state_->snapshot = std::move(snapshot);
}

MetricsServer::~MetricsServer() {
  stop();
}

void MetricsServer::start() {
  State& s = *state_;
  if (s.thread.joinable()) return;
  s.set_up();
  errno = 0;
  int bound = s.port == 0 ? s.server.bind_to_any_port(s.host)
                          : (s.server.bind_to_port(s.host, s.port) ? s.port : -1);
  if (bound <= 0) {
    int e = errno;
    throw std::runtime_error(listen_text(s.host, s.port) + ": " +
                             (e != 0 ? std::strerror(e) : "cannot listen there"));
  }
  s.port = static_cast<std::uint16_t>(bound);
  s.thread = std::thread([&s] {
    s.server.listen_after_bind();
    s.finished = true;
  });
  // httplib's stop() does nothing before its loop runs: wait for it, so that a stop()
  // right after start() cannot leave the thread listening forever.
  while (!s.server.is_running() && !s.finished)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void MetricsServer::stop() {
  State& s = *state_;
  if (!s.thread.joinable()) return;
  s.server.stop();
  s.thread.join();
}

std::uint64_t MetricsServer::scrapes() const {
  return state_->scrapes.load(std::memory_order_relaxed);
}

std::uint16_t MetricsServer::port() const {
  return state_->port;
}

}  // namespace tund::daemon
