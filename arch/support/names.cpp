#include "arch/support/names.h"

#include <fmt/core.h>

#include <cctype>
#include <limits>

namespace cascade {

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions ("clcok" -> "clock") cost 1.
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& candidate : candidates) {
    const size_t d = edit_distance(name, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  if (best.empty() || best_distance == 0) return "";
  // A prefix that says which of several keys was meant ("clock" -> "clock_hz") counts.
  if (best_distance > 2 && best.rfind(name, 0) == 0 && name.size() >= 3) return best;
  const size_t limit = std::max<size_t>(1, std::min(name.size(), best.size()) / 3 + 1);
  return best_distance <= limit && best_distance < name.size() ? best : std::string();
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string close = closest_name(name, candidates);
  return close.empty() ? "" : " (did you mean '" + close + "'?)";
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string unknown_key_message(const std::string& key, const std::string& where,
                                const std::vector<std::string>& known) {
  const std::string close = closest_name(key, known);
  return "unknown key '" + key + "' in " + where +
         (close.empty() ? " (known keys: " + join(known, ", ") + ")"
                        : " (did you mean '" + close + "'?)");
}

std::string format_bytes(double bytes) {
  if (bytes >= 1024.0 * 1024.0) return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024.0));
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} B", bytes);
}

bool is_identifier(const std::string& text) {
  if (text.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  return std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
  });
}

}  // namespace cascade
