// Small helpers on names and lists used by every reader and message: suggestions for
// misspelt names, joining, membership, identifier syntax.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace cascade {

// The closest candidate by edit distance (transpositions count once), or "" when none is
// close enough to be a plausible typo.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" for the closest candidate, or "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

// "unknown key 'x' in <where> (did you mean 'y'?)", or "(known keys: a, b, ...)".
std::string unknown_key_message(const std::string& key, const std::string& where,
                                const std::vector<std::string>& known);

// "3.50 MiB", "12.0 KiB", "512 B".
std::string format_bytes(double bytes);

// True for [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(const std::string& text);

template <typename T>
bool contains(const std::vector<T>& list, const T& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}
inline bool contains(const std::vector<std::string>& list, const char* item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Appends `name` unless the list has it.
inline void push_unique(std::vector<std::string>& list, const std::string& name) {
  if (!contains(list, name)) list.push_back(name);
}

// The keys of a map, in its order.
template <typename Map>
std::vector<std::string> keys_of(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [key, value] : map) out.push_back(key);
  return out;
}

}  // namespace cascade
