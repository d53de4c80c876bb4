#include "tund/daemon/metrics_server.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
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

using Clock = std::chrono::steady_clock;
// A connection lives at most this long, however it trickles (see ConnectionDeadlines).
constexpr auto kConnectionLifetime = 2 * kMetricsTimeout;
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(250);

// Is `a` (an accepted socket's local address) the listening address `bound`?
bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& bound) {
  if (a.ss_family != bound.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& b = reinterpret_cast<const sockaddr_in&>(bound);
    return x.sin_port == b.sin_port &&
           (b.sin_addr.s_addr == htonl(INADDR_ANY) || x.sin_addr.s_addr == b.sin_addr.s_addr);
  }
  if (a.ss_family != AF_INET6) return false;
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& b = reinterpret_cast<const sockaddr_in6&>(bound);
  return x.sin6_port == b.sin6_port &&
         (IN6_IS_ADDR_UNSPECIFIED(&b.sin6_addr) || IN6_ARE_ADDR_EQUAL(&x.sin6_addr, &b.sin6_addr));
}

// A connected socket accepted on `bound` (the listening socket itself has no peer).
bool accepted_on(int fd, const sockaddr_storage& bound) {
  sockaddr_storage local{}, peer{};
  socklen_t len = sizeof local, peer_len = sizeof peer;
  return ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
         same_endpoint(local, bound) &&
         ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0;
}

// httplib 0.11.4 times out each read and write, not a request: a scraper that sends one
// header byte every second is never cut off, and three of them hold every thread for good.
// httplib does not tell which socket a job serves, so the new connection is found right
// after httplib's accept (on the accepting thread, before the job is queued: the socket
// cannot be closed meanwhile) among this process's descriptors, by its local address, and
// a duplicate of it kept: the duplicate is ours, so its number is never reused by another
// part of tund while we may shutdown(2) it. A watchdog shuts down any connection older
// than kConnectionLifetime, and all of them at stop() (httplib then ends the job at once).
class ConnectionDeadlines {
 public:
  explicit ConnectionDeadlines(const sockaddr_storage& bound)
      : bound_(bound), watchdog_([this] { watch(); }) {}
  ~ConnectionDeadlines() {
    stop();
    for (const Tracked& t : tracked_) ::close(t.dup);  // none once every job has run
  }
  ConnectionDeadlines(const ConnectionDeadlines&) = delete;
  ConnectionDeadlines& operator=(const ConnectionDeadlines&) = delete;

  // The duplicates of the connections accepted since the last call (normally one).
  std::vector<int> track_new() {
    std::vector<int> added;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return added;  // no /proc: no deadline beyond httplib's own
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      int fd = std::atoi(entry->d_name);
      struct stat st {};
      if (fd == ::dirfd(dir) || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
      if (known(st.st_ino) || !accepted_on(fd, bound_)) continue;
      int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (dup < 0) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      tracked_.push_back({dup, st.st_ino, Clock::now()});
      added.push_back(dup);
    }
    ::closedir(dir);
    return added;
  }
  // The job of these connections has ended (httplib closed its descriptor).
  void untrack(const std::vector<int>& dups) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int dup : dups) {
      std::erase_if(tracked_, [dup](const Tracked& t) { return t.dup == dup; });
      ::close(dup);
    }
  }
  // Shuts every connection down (stop()).
  void cut_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Tracked& t : tracked_) ::shutdown(t.dup, SHUT_RDWR);
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cond_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
  }

 private:
  struct Tracked {
    int dup;
    ino_t inode;
    Clock::time_point accepted;
  };
  bool known(ino_t inode) {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::any_of(tracked_.begin(), tracked_.end(),
                       [inode](const Tracked& t) { return t.inode == inode; });
  }
  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cond_.wait_for(lock, kWatchdogPeriod, [this] { return stopping_; })) {
      auto too_old = Clock::now() - kConnectionLifetime;
      for (Tracked& t : tracked_) {
        if (t.accepted > too_old) continue;
        ::shutdown(t.dup, SHUT_RDWR);
        t.accepted = Clock::time_point::max();  // once
      }
    }
  }

  sockaddr_storage bound_;
  std::mutex mutex_;
  std::condition_variable cond_;
  std::vector<Tracked> tracked_;
  bool stopping_ = false;
  std::thread watchdog_;  // last: started once the rest is ready
};

// httplib's ThreadPool queues every accepted connection without a bound: 1000 hostile
// connections would hold 1000 descriptors (the daemon's own limit is near that) until the
// workers reach them. Here a full queue makes the accepting thread serve the connection
// itself, so it stops accepting meanwhile and the rest wait in the kernel's listen backlog:
// at most kWorkers + kMaxQueued + 1 connections are open at once, on kWorkers + 2 threads
// (with the deadlines' watchdog).
class BoundedPool : public httplib::TaskQueue {
 public:
  explicit BoundedPool(const sockaddr_storage& bound) : deadlines_(bound) {
    for (std::size_t i = 0; i < kWorkers; ++i) threads_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> fn) override {
    auto job = [this, fn = std::move(fn), dups = deadlines_.track_new()] {
      fn();
      deadlines_.untrack(dups);
    };
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (jobs_.size() < kMaxQueued) {
        jobs_.push_back(std::move(job));
        lock.unlock();
        cond_.notify_one();
        return;
      }
    }
    job();  // on the accepting thread: backpressure
  }
  // httplib has stopped accepting: cuts the connections (a queued job then closes its
  // connection at once, a running one ends), joins the workers and the watchdog.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    deadlines_.cut_all();
    cond_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    deadlines_.stop();
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

  ConnectionDeadlines deadlines_;
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
  // Appended piece by piece: GCC 12 -O3 warns falsely (-Wrestrict) on "literal" + rvalue.
  bool v6 = host.find(':') != std::string::npos;
  std::string text = "--metrics-listen ";
  text += v6 ? "[" : "";
  text += host;
  text += v6 ? "]:" : ":";
  text += std::to_string(port);
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
  int listen_fd = -1;        // httplib's listening socket (seen by socket_options)
  sockaddr_storage bound{};  // its address, once bound

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
  server.new_task_queue = [this] { return new BoundedPool(bound); };
  server.set_socket_options([this](socket_t sock) {
    listen_fd = sock;
    socket_options(sock);
  });
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
  int got = s.port == 0 ? s.server.bind_to_any_port(s.host)
                        : (s.server.bind_to_port(s.host, s.port) ? s.port : -1);
  if (got <= 0) {
    int e = errno;
    throw std::runtime_error(listen_text(s.host, s.port) + ": " +
                             (e != 0 ? std::strerror(e) : "cannot listen there"));
  }
  s.port = static_cast<std::uint16_t>(got);
  socklen_t len = sizeof s.bound;
  ::getsockname(s.listen_fd, reinterpret_cast<sockaddr*>(&s.bound), &len);
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
