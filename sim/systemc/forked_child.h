// Runs work in a forked child process and returns what it returned.
//
// Why: SystemC elaborates and runs once per process (DESIGN.md, pitfalls), but the Python
// module's simulate() and a sweep's `fidelity: cycle` points want many simulations in one
// process. The parent loads and ranks the point (so errors in the files surface there, before
// any fork); the child runs the cycle model and sends its result back through a pipe. The
// parent never touches SystemC, so every child starts from a fresh kernel, and nothing re-reads
// the files. The child runs plain C++ only (no Python, no new threads of the parent's) and
// leaves with _exit, skipping the parent's exit handlers (Python's, SQLite's, MPI's).
#pragma once

#include <functional>
#include <string>

namespace cascade {

// `work`'s result. An Error thrown in the child is rethrown here with its file:line:col; any
// other exception as std::runtime_error; a child that dies (a signal, a crash, an exit without
// a result) is an Error naming how. `what` names the caller in those messages ("simulate").
std::string run_in_forked_child(const std::function<std::string()>& work, const std::string& what);

}  // namespace cascade
