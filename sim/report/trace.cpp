#include "sim/report/trace.h"

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace cascade {

std::string chrome_trace(const Stats& ev, GroupSchedule schedule, double clock_hz) {
  const double us_per_cycle = clock_hz > 0 ? 1e6 / clock_hz : 0;
  nlohmann::json events = nlohmann::json::array();
  std::map<std::string, int> track;  // unit -> thread id; 0 is the groups' track
  auto track_of = [&](const std::string& unit) {
    auto it = track.find(unit);
    if (it != track.end()) return it->second;
    const int id = static_cast<int>(track.size()) + 1;
    track[unit] = id;
    return id;
  };
  auto span = [&](const std::string& name, int tid, double start, double cycles,
                  nlohmann::json args) {
    events.push_back({{"name", name},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", tid},
                      {"ts", start * us_per_cycle},
                      {"dur", cycles * us_per_cycle},
                      {"args", std::move(args)}});
  };
  double group_start = 0;
  std::map<std::string, double> unit_free;  // overlapped: where each unit's next group starts
  for (const GroupStats& g : ev.groups) {
    if (schedule == GroupSchedule::Sequential)
      span(g.name, 0, group_start, g.cycles,
           {{"cycles", g.cycles}, {"fill_cycles", g.fill_cycles}, {"bottleneck", g.bottleneck}});
    for (const auto& [unit, busy] : g.busy_cycles) {
      const double start = schedule == GroupSchedule::Sequential ? group_start : unit_free[unit];
      span(g.name, track_of(unit), start, busy,
           {{"busy_cycles", busy},
            {"share_of_group", g.cycles > 0 ? busy / g.cycles : 0.0},
            {"note", "busy time; its order inside the group is not modelled"}});
      unit_free[unit] = start + busy;
    }
    if (schedule == GroupSchedule::Sequential) group_start += g.cycles;
  }
  auto name_track = [&](int tid, const std::string& name) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", tid},
                      {"args", {{"name", name}}}});
  };
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"args", {{"name", "cascade analytical model"}}}});
  if (schedule == GroupSchedule::Sequential) name_track(0, "groups");
  for (const auto& [unit, tid] : track) name_track(tid, unit);
  nlohmann::json trace = {{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  return trace.dump(1);
}

}  // namespace cascade
