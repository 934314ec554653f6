// The search's thread pool (mappings/mappers/search/search_pool.h): every verdict in place
// after run() whichever thread computed it, when the worker threads are slow (taken off
// their core, as on a shared machine: here they sleep in every job), and rounds that a late
// thread still reads are never refilled under it. No timing is asserted.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "mappings/mappers/search/search_pool.h"

namespace cascade::search_detail {
namespace {

// The verdict of a genome: a pure function of it (as the search's is).
double expected(const Genome& g, double best) { return g.cut[0] * 10.0 + g.cut[1] + best; }

TEST(SearchPool, VerdictsInPlaceWhicheverThreadComputesThem) {
  for (int threads : {1, 2, 3}) {
    std::atomic<int> by_workers{0};
    BatchPool pool(threads, 16, [&](int t, const Genome& g, double best, Verdict& v) {
      v = Verdict{};
      if (t != 0) {  // a worker the OS took off its core: ten times slower than the caller
        ++by_workers;
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
      v.bound = expected(g, best);
      v.constraint = "item " + std::to_string(g.cut[0]) + "." + std::to_string(g.cut[1]);
    });
    for (uint16_t round = 0; round < 20; ++round) {
      std::vector<Candidate>& batch = pool.next_batch();
      const size_t n = 1 + round % 16;
      for (size_t i = 0; i < n; ++i) batch[i].genome.cut = {round, static_cast<uint16_t>(i)};
      pool.run(n, round * 0.5);
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(batch[i].verdict.bound, expected(batch[i].genome, round * 0.5)) << threads;
        EXPECT_EQ(batch[i].verdict.constraint, "item " + std::to_string(round) + "." + std::to_string(i));
      }
    }
    RecordProperty("jobs_by_workers_" + std::to_string(threads), by_workers.load());
  }
}

}  // namespace
}  // namespace cascade::search_detail
