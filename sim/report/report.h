// Reports of one evaluated design point: the text table `cascade run` prints, the JSON
// report, and the summary row whose schema `run --csv` and sweeps share.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/model/design_point.h"
#include "sim/report/csv.h"

namespace cascade {

// The text report: cycles, latency, utilization, DRAM, bottleneck, busy cycles, energy by
// component and level, area.
std::string text_report(const DesignPoint& point, const DesignPointResult& result);

// Everything: the summary, actions, notes, per-Einsum, per-group and per-tensor figures,
// the candidates considered.
nlohmann::json json_report(const DesignPoint& point, const DesignPointResult& result);

// The summary schema, one (column, value) pair per field in order: arch, workload, cascade,
// mapper, mapping, batch, heads, P, M, cycles, latency_s, utilization_<array>...,
// dram_bytes, bottleneck, energy_j, register_file_energy, area_mm2, energy_<component>_j...
// Numbers are written with 17 significant digits (they read back exactly).
using SummaryRow = CsvRow;
SummaryRow summary_row(const DesignPoint& point, const DesignPointResult& result);

// The mapper column: the mapper that made the mapping (a mapping file may name one), else
// the mapping file given.
std::string mapper_label(const DesignPoint& point, const DesignPointResult& result);

// "1,234,567"
std::string with_commas(double v);

}  // namespace cascade
