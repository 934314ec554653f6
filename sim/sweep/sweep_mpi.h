// `mpirun -n N cascade sweep FILE`: rank 0 reads the sweep, finds what the database lacks,
// hands the points out in chunks to ranks 1..N-1 as they ask for work (a work queue: fast
// ranks take more), stores their rows in the one SQLite database and writes the CSV, all
// through run_sweep (so the rows and CSV are those of a single-process run). A rank that
// dies loses only the chunk it holds: OpenMPI then ends the job, every row rank 0 received
// is committed, and a rerun computes the rest. Built with CASCADE_MPI.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/sweep/sweep.h"

namespace cascade {

// Whether this process was started by an MPI launcher (mpirun sets these variables); a
// plain `cascade sweep` never initializes MPI.
bool launched_by_mpi();

class SweepMpi {
 public:
  SweepMpi();  // MPI_Init_thread (serialized: one thread of rank 0 talks MPI at a time)
  ~SweepMpi();  // stops the workers rank 0 has not stopped, then MPI_Finalize
  SweepMpi(const SweepMpi&) = delete;
  SweepMpi& operator=(const SweepMpi&) = delete;

  int rank() const;
  int size() const;

  // Rank 0: the SweepCompute that hands the points to the other ranks.
  SweepCompute compute(const SweepSpec& spec);
  // Rank 0: tells every worker still waiting that there is no more work (also done by
  // the destructor, so that an Error on rank 0 never leaves the workers waiting).
  void finish();
  // Ranks 1..N-1: evaluate what rank 0 hands out until it says stop. `load` reads the sweep
  // file; if it throws, every point handed out becomes an error row with its message.
  void serve(const std::function<SweepSpec()>& load, const ConfigFinder& find_config);

 private:
  struct State;
  State* state_;
};

}  // namespace cascade
