// Chrome / Perfetto trace of a model's Stats (open in ui.perfetto.dev or
// chrome://tracing): one track per unit (each array, DRAM) and one for the groups.
//
// The analytical model knows how long each unit is busy in each group, not when inside the
// group: a unit's span starts at its group's start and lasts its busy time. Sequential
// groups follow each other (each takes its `cycles`, fill included); overlapped groups
// (FLAT with its intermediates in DRAM) share the units, so each unit's groups follow each
// other on its own track from time 0.
#pragma once

#include <string>

#include "mappings/mapping/mapping.h"
#include "sim/model/stats.h"

namespace cascade {

// The trace as JSON text (trace-event format, times in microseconds).
std::string chrome_trace(const Stats& stats, GroupSchedule schedule, double clock_hz);

}  // namespace cascade
