// The shape every benchmark tool's main() shares (tests/bench/*_bench.cpp): parse the
// arguments, a one-line error and exit 2 when they are bad; then libsodium initialised and
// the measurement run, any exception a one-line "NAME: what" and exit 1. Header-only, as
// cpu_time.hpp.
#pragma once

#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "tund/crypto/primitives.hpp"

namespace tund::bench {

// parse(argc, argv, error) -> std::optional<Options> (nullopt: `error` says why, one line,
// prefixed with the tool's name); run(const Options&) measures and prints. Returns main's
// exit status.
template <class Parse, class Run>
int tool_main(const char* name, int argc, char** argv, Parse parse, Run run) {
  std::string error;
  auto options = parse(argc, argv, error);
  if (!options) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  try {
    crypto::init_sodium();
    run(*options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
  return 0;
}

}  // namespace tund::bench
