// What the fuzz targets share: the input as text, and the rule every reader must keep —
// bad input is a cascade::Error (file:line:col), never another exception, a crash, a hang
// or undefined behaviour (ASan + UBSan abort on those).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "arch/support/error.h"

namespace cascade::fuzz {

inline std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

[[noreturn]] inline void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "FUZZ FINDING: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Runs `body`; a cascade::Error is the expected answer to bad input, anything else a bug.
template <typename F>
void expect_only_errors(F body) {
  try {
    body();
  } catch (const Error&) {
  } catch (const std::exception& e) {
    finding("an exception other than cascade::Error", e.what());
  } catch (...) {
    finding("a non-standard exception", "?");
  }
}

}  // namespace cascade::fuzz
