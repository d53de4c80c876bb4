// Each unit-test process gets a scratch directory of its own: ctest runs the test cases
// side by side (one process each, `ctest -j`), and cases that write fixed names under
// ::testing::TempDir() ("tund-hook.out", "tund-test.conf") would otherwise overwrite each
// other's files. GoogleTest reads TEST_TMPDIR on every TempDir() call, so setting it before
// main() is enough; the directory goes when the process ends.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace {

class ProcessTempDir {
 public:
  ProcessTempDir() {
    std::string pattern = "/tmp/tund-unit.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return;  // TempDir() falls back to /tmp
    path_ = pattern;
    ::setenv("TEST_TMPDIR", (path_ + "/").c_str(), 1);
    owner_ = ::getpid();
  }
  ~ProcessTempDir() {
    if (path_.empty() || ::getpid() != owner_) return;  // a forked child leaves it be
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ProcessTempDir(const ProcessTempDir&) = delete;
  ProcessTempDir& operator=(const ProcessTempDir&) = delete;

 private:
  std::string path_;
  pid_t owner_ = 0;
};

const ProcessTempDir process_temp_dir;

}  // namespace
