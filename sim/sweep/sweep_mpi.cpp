// The MPI sweep driver (sweep_mpi.h): a work queue on rank 0, workers on the other ranks.
// Messages are strings: work is "index key" lines, results a JSON array (doubles go through
// nlohmann's shortest round-trip form, the summary's values are strings, so a row stored by
// rank 0 equals the row a single process stores).
#include "sim/sweep/sweep_mpi.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/string.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "sim/sweep/sweep_detail.h"

namespace cascade {

namespace mpi = boost::mpi;

namespace {

enum Tag : int { kRequest = 1, kWork = 2, kStop = 3 };

nlohmann::json to_json(const SweepResult& r) {
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& [k, v] : r.summary) summary.push_back({k, v});
  return {{"index", r.index},       {"key", r.key},     {"values", r.values_json},
          {"ok", r.ok},             {"error", r.error}, {"summary", summary},
          {"mapping", r.mapping},   {"P", r.P},         {"latency_s", r.latency_s},
          {"energy_j", r.energy_j}, {"area_mm2", r.area_mm2}};
}

SweepResult from_json(const nlohmann::json& j) {
  SweepResult r;
  r.index = j.at("index").get<size_t>();
  r.key = j.at("key").get<std::string>();
  r.values_json = j.at("values").get<std::string>();
  r.ok = j.at("ok").get<bool>();
  r.error = j.at("error").get<std::string>();
  for (const auto& kv : j.at("summary"))
    r.summary.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  r.mapping = j.at("mapping").get<std::string>();
  r.P = j.at("P").get<double>();
  r.latency_s = j.at("latency_s").get<double>();
  r.energy_j = j.at("energy_j").get<double>();
  r.area_mm2 = j.at("area_mm2").get<double>();
  return r;
}

}  // namespace

struct SweepMpi::State {
  // Serialized: rank 0's compute thread and then its main thread call MPI, never both.
  mpi::environment env{mpi::threading::serialized, /*abort_on_exception=*/false};
  mpi::communicator world;
  std::vector<bool> stopped;  // rank 0: workers told to stop (index = rank)
};

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

SweepMpi::SweepMpi() : state_(new State) {
  state_->stopped.assign(static_cast<size_t>(state_->world.size()), false);
  state_->stopped[0] = true;
}

SweepMpi::~SweepMpi() {
  try {
    finish();
  } catch (...) {
    // MPI_Finalize below; a worker left waiting is ended by mpirun with rank 0's exit
  }
  delete state_;
}

int SweepMpi::rank() const { return state_->world.rank(); }
int SweepMpi::size() const { return state_->world.size(); }

void SweepMpi::finish() {
  if (rank() != 0) return;
  // Every worker not yet stopped has exactly one message on its way to rank 0 (its first
  // request, or the results of a chunk rank 0 no longer wants): take it, answer stop.
  for (int w = 1; w < size(); ++w) {
    if (state_->stopped[static_cast<size_t>(w)]) continue;
    std::string ignored;
    state_->world.recv(w, kRequest, ignored);
    state_->world.send(w, kStop, std::string());
    state_->stopped[static_cast<size_t>(w)] = true;
  }
}

SweepCompute SweepMpi::compute(const SweepSpec& spec) {
  const std::string name = spec.name;
  return [this, name](const std::vector<size_t>& todo, const std::vector<std::string>& keys,
                      const std::function<void(SweepResult)>& deliver,
                      const std::function<bool()>& stopping) {
    const size_t workers = static_cast<size_t>(size() - 1);
    size_t next = 0;
    size_t active = 0;
    for (int w = 1; w < size(); ++w) active += state_->stopped[static_cast<size_t>(w)] ? 0 : 1;
    while (active > 0 && !stopping()) {
      // Polled, not blocking, so that a stop (an Error storing rows) is seen.
      const auto status = state_->world.iprobe(mpi::any_source, kRequest);
      if (!status) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      const int w = status->source();
      std::string message;
      state_->world.recv(w, kRequest, message);
      if (!message.empty())
        for (const nlohmann::json& j : nlohmann::json::parse(message)) deliver(from_json(j));
      if (next < todo.size()) {
        // Chunks shrink as the queue empties, so the ranks finish together.
        const size_t left = todo.size() - next;
        const size_t chunk = std::clamp<size_t>(left / (4 * workers), 1, 256);
        std::string work;
        for (size_t n = next; n < next + chunk; ++n) work += fmt::format("{} {}\n", todo[n], keys[n]);
        next += chunk;
        state_->world.send(w, kWork, work);
      } else {
        state_->world.send(w, kStop, std::string());
        state_->stopped[static_cast<size_t>(w)] = true;
        --active;
      }
    }
    if (!stopping() && next < todo.size())
      throw Error(fmt::format("sweep {}: no MPI worker left with {} points to hand out", name,
                              todo.size() - next));
  };
}

void SweepMpi::serve(const std::function<SweepSpec()>& load, const ConfigFinder& find_config) {
  std::unique_ptr<SweepSpec> spec;
  std::string load_error;
  try {
    spec = std::make_unique<SweepSpec>(load());
  } catch (const std::exception& e) {
    load_error = e.what();
  }
  // Fault injection for the test of a dying rank (tests/cli/sweep_mpi.sh): this worker
  // exits without a word after evaluating that many points.
  const char* die = std::getenv("CASCADE_SWEEP_MPI_TEST_DIE_AFTER");
  const long die_after = die != nullptr ? std::strtol(die, nullptr, 10) : -1;
  long evaluated = 0;
  sweep_detail::FileCache cache(find_config);
  state_->world.send(0, kRequest, std::string());
  for (;;) {
    const mpi::status status = state_->world.probe(0, mpi::any_tag);
    std::string message;
    state_->world.recv(0, status.tag(), message);
    if (status.tag() == kStop) return;
    nlohmann::json results = nlohmann::json::array();
    std::istringstream lines(message);
    size_t index = 0;
    std::string key;
    while (lines >> index) {
      std::getline(lines, key);
      if (!key.empty() && key.front() == ' ') key.erase(0, 1);
      SweepResult r;
      if (spec) {
        r = sweep_detail::evaluate_point(sweep_point(*spec, index), cache, key);
      } else {
        r.index = index;
        r.error = load_error;
      }
      results.push_back(to_json(r));
      if (die_after >= 0 && ++evaluated > die_after) _exit(3);
    }
    // Error messages may quote bytes that are not UTF-8: replaced, never a crash.
    state_->world.send(0, kRequest, results.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

}  // namespace cascade
