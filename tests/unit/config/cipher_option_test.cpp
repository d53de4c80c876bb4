// The data path's cipher options. --cipher auto|aes-256-gcm|chacha20-poly1305 and the
// config file's `cipher`: the values, the default, the errors (a word it does not know, no
// encryption), the command line winning over the file. --threads auto|1-64 and `threads`
// (the threads sealing and opening frames): the same, every mode taking it, and
// effective_threads() resolving auto against the CPUs this process may use.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "tund/config/cli.hpp"
#include "tund/config/threads.hpp"

namespace tund::config {
namespace {

class CipherOption : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tund-cipher-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0700);
    key_ = write("s.key", "x\n");  // read as a key only at start-up, not by the parser
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0600);
    return path;
  }
  // An encrypted server's command line, plus `extra`.
  std::vector<std::string> server(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"-s", "-i", "tun3", "--private-key", key_, "--allow", kPub};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  static constexpr const char* kPub = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=";
  std::string dir_, key_;
};

Config parse_ok(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (auto* exit = std::get_if<CliExit>(&r)) ADD_FAILURE() << exit->output;
  return std::get_if<Config>(&r) ? std::get<Config>(r) : Config{};
}

// The one-line error after "tund: error: " (status 2).
std::string error_of(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  if (!std::holds_alternative<CliExit>(r)) return "(parsed)";
  const CliExit& e = std::get<CliExit>(r);
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_EQ(std::count(e.output.begin(), e.output.end(), '\n'), 1) << e.output;
  EXPECT_EQ(e.output.rfind("tund: error: ", 0), 0u) << e.output;
  return e.output.substr(13, e.output.size() - 14);
}

TEST_F(CipherOption, AutoByDefault) {
  EXPECT_EQ(parse_ok(server()).cipher, Cipher::automatic);
  EXPECT_EQ(parse_ok({"-s", "-i", "tun3"}).cipher, Cipher::automatic) << "plaintext too";
}

TEST_F(CipherOption, EachValue) {
  EXPECT_EQ(parse_ok(server({"--cipher", "auto"})).cipher, Cipher::automatic);
  EXPECT_EQ(parse_ok(server({"--cipher", "aes-256-gcm"})).cipher, Cipher::aes256gcm);
  EXPECT_EQ(parse_ok(server({"--cipher=chacha20-poly1305"})).cipher, Cipher::chacha20poly1305);
  EXPECT_EQ(parse_ok(server({"--cipher", "aes-256-gcm", "--cipher", "auto"})).cipher,
            Cipher::automatic)
      << "the last value, as for every single-valued option";
}

TEST_F(CipherOption, UnknownValuesAreOneLineErrors) {
  EXPECT_EQ(error_of(server({"--cipher", "aes"})),
            "--cipher: 'aes' (expected auto or aes-256-gcm or chacha20-poly1305) (see tund "
            "--help)");
  EXPECT_EQ(error_of(server({"--cipher", "AES-256-GCM"})).rfind("--cipher: 'AES-256-GCM'", 0), 0u);
  EXPECT_EQ(error_of(server({"--cipher", ""})),
            "--cipher: an empty value (expected auto or aes-256-gcm or chacha20-poly1305) (see "
            "tund --help)");
}

TEST_F(CipherOption, NeedsEncryption) {
  EXPECT_EQ(error_of({"-s", "-i", "tun3", "--cipher", "chacha20-poly1305"}),
            "--cipher needs --private-key (it picks the encryption's cipher) (see tund --help)");
  std::string conf = write("plain.conf", "server = true\niface = tun3\ncipher = auto\n");
  EXPECT_EQ(error_of({"--config", conf}),
            conf + " line 3: --cipher needs --private-key (it picks the encryption's cipher)");
}

TEST_F(CipherOption, FromTheConfigFileAndOverriddenByTheCommandLine) {
  std::string conf = write("t.conf", std::string("server = true\niface = tun3\nprivate-key = ") +
                                         key_ + "\nallow = " + kPub + "\ncipher = aes-256-gcm\n");
  Config c = parse_ok({"--config", conf});
  EXPECT_EQ(c.cipher, Cipher::aes256gcm);
  EXPECT_EQ(c.sources.prefix("cipher"), conf + " line 5: ");
  EXPECT_EQ(parse_ok({"--config", conf, "--cipher", "chacha20-poly1305"}).cipher,
            Cipher::chacha20poly1305);
  std::string bad = write("bad.conf", "server = true\niface = tun3\ncipher = rc4\n");
  EXPECT_EQ(error_of({"--config", bad}),
            bad + " line 3: --cipher: 'rc4' (expected auto or aes-256-gcm or chacha20-poly1305)");
}

// --threads: the same fixture (a server with keys, files); plaintext needs no keys.
using ThreadsOption = CipherOption;

TEST_F(ThreadsOption, AutoByDefault) {
  EXPECT_EQ(parse_ok({"-s", "-i", "tun3"}).threads, 0u);
  EXPECT_EQ(parse_ok(server()).threads, 0u);
}

TEST_F(ThreadsOption, EachValue) {
  EXPECT_EQ(parse_ok(server({"--threads", "2"})).threads, 2u);
  EXPECT_EQ(parse_ok(server({"--threads", "1"})).threads, 1u);
  EXPECT_EQ(parse_ok(server({"--threads=64"})).threads, 64u);
  EXPECT_EQ(parse_ok(server({"--threads", "auto"})).threads, 0u);
  EXPECT_EQ(parse_ok(server({"--threads", "08"})).threads, 8u) << "decimal, not octal";
  EXPECT_EQ(parse_ok(server({"--threads", "2", "--threads", "auto"})).threads, 0u) << "the last";
}

TEST_F(ThreadsOption, BadValuesAreOneLineErrors) {
  EXPECT_EQ(error_of(server({"--threads", "0"})),
            "--threads: 0 is out of range (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", "65"})),
            "--threads: 65 is out of range (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", "-1"})),
            "--threads: '-1' is not a number (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads=-1"})),
            "--threads: '-1' is not a number (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", "x"})),
            "--threads: 'x' is not a number (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", "2x"})),
            "--threads: '2x' is not a number (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", "AUTO"})),
            "--threads: 'AUTO' is not a number (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", "99999999999"})),
            "--threads: 99999999999 is out of range (auto or 1-64) (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads"})), "--threads needs an N (see tund --help)");
  EXPECT_EQ(error_of(server({"--threads", ""})),
            "--threads: an empty value (auto or 1-64) (see tund --help)");
}

// The cipher work of a batch exists in every mode (and a plaintext tunnel simply has
// none): the option is taken everywhere, without a warning.
TEST_F(ThreadsOption, EveryModeTakesItWithoutWarnings) {
  std::string peers = dir_ + "/peers";
  ::mkdir(peers.c_str(), 0700);
  std::vector<std::vector<std::string>> modes = {
      {"-s", "-i", "tun3"},
      {"-s", "-i", "tap3", "-a", "-t", "udp"},
      {"-c", "198.18.0.1", "-i", "tun3", "-t", "udp"},
      {"-c", "198.18.0.1", "-i", "tun3", "--private-key", key_, "--peer-key", kPub},
      server({"-t", "udp", "--no-offload"}),
      {"-s", "-i", "hub0", "--private-key", key_, "--peers-dir", peers, "-t", "udp"},
  };
  for (std::vector<std::string> args : modes) {
    args.insert(args.end(), {"--threads", "3"});
    Config c = parse_ok(args);
    EXPECT_EQ(c.threads, 3u) << args[0] << " " << args[2];
    for (const std::string& w : c.warnings) EXPECT_EQ(w.find("threads"), std::string::npos) << w;
  }
}

TEST_F(ThreadsOption, FromTheConfigFileAndOverriddenByTheCommandLine) {
  std::string conf = write("t.conf", "server = true\niface = tun3\nthreads = 4\n");
  Config c = parse_ok({"--config", conf});
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.sources.prefix("threads"), conf + " line 3: ");
  EXPECT_EQ(parse_ok({"--config", conf, "--threads", "auto"}).threads, 0u);
  EXPECT_EQ(
      parse_ok({"--config", write("a.conf", "server = true\niface = t\nthreads = auto\n")}).threads,
      0u);
  for (const char* bad : {"0", "65", "x", "-1"}) {
    std::string path =
        write("bad.conf", std::string("server = true\niface = t\nthreads = ") + bad + "\n");
    EXPECT_EQ(error_of({"--config", path}).rfind(path + " line 3: --threads: ", 0), 0u)
        << bad << ": " << error_of({"--config", path});
  }
}

// The rule without the machine: a count as given, auto as the CPUs (at least one), both
// capped.
TEST(EffectiveThreads, ResolveRule) {
  EXPECT_EQ(resolve_threads(0, 8), 8u);
  EXPECT_EQ(resolve_threads(0, 1), 1u);
  EXPECT_EQ(resolve_threads(0, 0), 1u) << "no CPU count known: one thread";
  EXPECT_EQ(resolve_threads(0, 256), kMaxThreads);
  EXPECT_EQ(resolve_threads(3, 1), 3u) << "a count given is kept, even above the CPUs";
  EXPECT_EQ(resolve_threads(kMaxThreads, 2), kMaxThreads);
  EXPECT_EQ(resolve_threads(1000, 2), kMaxThreads);
  EXPECT_EQ(kMaxThreads, 64u);
}

std::vector<std::size_t> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<std::size_t> cpus;
  for (std::size_t cpu = 0; cpu < static_cast<std::size_t>(CPU_SETSIZE); ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

TEST(EffectiveThreads, AutoIsTheCpusThisProcessMayUse) {
  auto cpus = static_cast<unsigned>(allowed_cpus().size());
  EXPECT_EQ(effective_threads(0), std::min(cpus, kMaxThreads));
  EXPECT_EQ(effective_threads(2), 2u);
  EXPECT_EQ(effective_threads(64), 64u);
}

// The affinity mask, not the machine's CPU count (taskset -c 0 tund ...): a thread pinned
// to one CPU resolves auto to 1, where hardware_concurrency() would say every CPU.
TEST(EffectiveThreads, FollowsTheAffinityMask) {
  std::vector<std::size_t> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  unsigned pinned = 0;
  std::thread([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpus.front(), &one);
    if (::sched_setaffinity(0, sizeof one, &one) == 0) pinned = effective_threads(0);
  }).join();
  EXPECT_EQ(pinned, 1u);
}

}  // namespace
}  // namespace tund::config
