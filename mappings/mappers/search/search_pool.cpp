#include "mappings/mappers/search/search_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace cascade::search_detail {

namespace {

// Until ready() or `limit` passed, giving the core away between checks (a machine shared
// with other work may have someone to run).
template <class Ready>
void spin(Ready ready, std::chrono::microseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!ready() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
}

}  // namespace

BatchPool::BatchPool(int threads, size_t batch, Job job)
    : job_(std::move(job)), batch_(batch), scratch_(static_cast<size_t>(std::max(1, threads))) {
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { serve(t); });
}

BatchPool::~BatchPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    ++round_;
  }
  start_.notify_all();
  for (std::thread& w : workers_) w.join();
}

std::vector<Candidate>& BatchPool::next_batch() {
  if (!filling_) {
    // A round no late thread still reads: none can join it (current_ is null between runs),
    // and the acquire pairs with the release of the last one leaving.
    for (const std::unique_ptr<Round>& r : rounds_)
      if (r->readers.load(std::memory_order_acquire) == 0) {
        filling_ = r.get();
        break;
      }
    if (!filling_) {
      auto r = std::make_unique<Round>();
      r->items.resize(batch_);
      r->state = std::make_unique<std::atomic<int>[]>(batch_);
      filling_ = r.get();
      rounds_.push_back(std::move(r));
    }
  }
  return filling_->items;
}

void BatchPool::run(size_t n, double best_cycles) {
  next_batch();
  Round& r = *filling_;
  r.n = n;
  r.best_cycles = best_cycles;
  if (workers_.empty()) {
    for (size_t i = 0; i < n; ++i) job_(0, r.items[i].genome, best_cycles, r.items[i].verdict);
    filling_ = nullptr;
    return;
  }
  r.next.store(0, std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) r.state[i].store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);  // publishes the round to the workers
    current_ = filling_;
    ++round_;
  }
  start_.notify_all();
  work(0, r);
  // The stragglers' candidates: a moment for them, then evaluated here too.
  for (size_t i = 0; i < n; ++i) {
    auto done = [&] { return r.state[i].load(std::memory_order_acquire) == 2; };
    if (done()) continue;
    spin(done, std::chrono::microseconds(20));
    if (!done()) publish(0, r, i);
    while (!done()) std::this_thread::yield();  // another thread is storing its verdict
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = nullptr;
    error = std::exchange(error_, nullptr);
  }
  filling_ = nullptr;
  if (error) std::rethrow_exception(error);
}

void BatchPool::publish(int thread, Round& r, size_t i) {
  Verdict& v = scratch_[static_cast<size_t>(thread)];
  job_(thread, r.items[i].genome, r.best_cycles, v);
  int open = 0;
  if (r.state[i].compare_exchange_strong(open, 1, std::memory_order_acq_rel)) {
    std::swap(v, r.items[i].verdict);
    r.state[i].store(2, std::memory_order_release);
  }
}

void BatchPool::work(int thread, Round& r) {
  try {
    for (size_t i; (i = r.next.fetch_add(1, std::memory_order_relaxed)) < r.n;)
      if (r.state[i].load(std::memory_order_acquire) == 0) publish(thread, r, i);
  } catch (...) {
    if (thread == 0) throw;
    std::lock_guard<std::mutex> lock(mutex_);  // the caller rethrows it (and redoes the item)
    if (!error_) error_ = std::current_exception();
  }
}

void BatchPool::serve(int thread) {
  uint64_t seen = 0;
  for (;;) {
    Round* r = nullptr;
    spin([&] { return round_.load() != seen; }, std::chrono::microseconds(100));
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return round_.load() != seen; });
      seen = round_;
      if (stop_) return;
      r = current_;  // null when the round ended before this thread woke
      if (r) r->readers.fetch_add(1, std::memory_order_relaxed);  // ordered by the lock
    }
    if (!r) continue;
    work(thread, *r);
    r->readers.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace cascade::search_detail
