// The cascade::Error a piece of code throws, for tests of error messages and locations.
#pragma once

#include <gtest/gtest.h>

#include "arch/support/error.h"

namespace cascade::testing_support {

// The Error thrown by `f`; a test failure (and an empty Error) when it throws none.
template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no cascade::Error thrown";
  return Error("none");
}

}  // namespace cascade::testing_support
