// The threads that evaluate the search's candidates (search.cpp), started once per search.
// Internal to the search.
//
// A batch is a Round: its candidates' genomes (and the best cycles so far) are fixed while
// it runs; every thread, the caller's included, takes the next candidate from one atomic
// counter. A candidate's Verdict is a pure function of its genome and the round's best
// cycles, so which thread evaluates it never matters. The caller never waits for a thread
// that the OS took off its core in the middle of a candidate (on a shared machine it may be
// off for a whole time slice): after its own share it evaluates the stragglers' candidates
// too, and the first to finish a candidate publishes its verdict (one atomic state per
// candidate). A round a late thread still reads is left alone (it counts its readers); the
// next batch then goes into another.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mappings/mappers/search/search.h"
#include "mappings/mappers/search/search_space.h"

namespace cascade::search_detail {

// What the evaluation of one candidate says.
struct Verdict {
  SearchScore score;
  std::string constraint;               // the violated one
  bool pruned = false;                  // by the lower bound
  bool evaluated = false;               // reached the model (which may still reject it)
  const std::string* reason = nullptr;  // why the model rejected it
  double bound = 0;                     // the lower bound on its cycles
  // > 0: excluded by min_utilization alone, by this much (the sum over the minimums of what
  // the utilization lacks; for one excluded before its evaluation, its upper bound's).
  double shortfall = 0;
};

struct Candidate {
  Genome genome;
  Verdict verdict;
};

class BatchPool {
 public:
  // Evaluates `genome` into `verdict` (reset it first: the storage is reused) on thread
  // `thread` (0: the caller's), with the best cycles found before the batch.
  using Job = std::function<void(int thread, const Genome& genome, double best_cycles, Verdict& verdict)>;
  BatchPool(int threads, size_t batch, Job job);
  ~BatchPool();
  // The candidates of the next batch, for the caller to fill (genomes only) before run().
  std::vector<Candidate>& next_batch();
  // Evaluates the first n candidates of next_batch(); on return every verdict is in place.
  void run(size_t n, double best_cycles);

 private:
  struct Round {
    std::vector<Candidate> items;
    std::unique_ptr<std::atomic<int>[]> state;  // 0 open, 1 being published, 2 done
    std::atomic<size_t> next{0};
    std::atomic<int> readers{0};  // worker threads inside work() on it
    size_t n = 0;
    double best_cycles = 0;
  };
  void work(int thread, Round& round);
  void publish(int thread, Round& round, size_t i);
  void serve(int thread);

  Job job_;
  size_t batch_;
  std::vector<Verdict> scratch_;  // per thread
  std::vector<std::unique_ptr<Round>> rounds_;
  Round* filling_ = nullptr;
  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards current_, round_, stop_, error_
  std::condition_variable start_;
  Round* current_ = nullptr;  // the round running, for the workers to join
  std::atomic<uint64_t> round_{0};
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace cascade::search_detail
