// Checks a folder of malformed input files against its manifest `expected.txt`: one line
// per file, `file line:col message fragment` (# comments). Each file must fail to load
// with an Error at exactly that location whose message contains the fragment, and the
// manifest must list every .yaml file of the folder.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include "arch/support/error.h"

namespace cascade::testing_support {

inline void check_bad_files(const std::filesystem::path& folder,
                            const std::function<void(const std::string&)>& load,
                            size_t minimum_files) {
  namespace fs = std::filesystem;
  std::ifstream manifest(folder / "expected.txt");
  ASSERT_TRUE(manifest) << "missing " << (folder / "expected.txt");
  std::set<std::string> listed;
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, position;
    fields >> file >> position;
    std::string fragment;
    std::getline(fields >> std::ws, fragment);
    ASSERT_FALSE(fragment.empty()) << "manifest line without a message fragment: " << line;
    const size_t colon = position.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    const int want_line = std::stoi(position.substr(0, colon));
    const int want_column = std::stoi(position.substr(colon + 1));
    EXPECT_TRUE(listed.insert(file).second) << file << " is listed twice";

    SCOPED_TRACE(file);
    const std::string path = (folder / file).string();
    try {
      load(path);
      ADD_FAILURE() << file << " loaded without an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.where().file, path);
      EXPECT_EQ(e.where().line, want_line) << e.what();
      EXPECT_EQ(e.where().column, want_column) << e.what();
      EXPECT_NE(e.message().find(fragment), std::string::npos)
          << "message: " << e.message() << "\nexpected fragment: " << fragment;
      EXPECT_NE(std::string(e.what()).find(path + ":" + position), std::string::npos) << e.what();
    }
  }
  std::set<std::string> present;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".yaml") present.insert(entry.path().filename().string());
  EXPECT_EQ(listed, present) << "expected.txt must list every .yaml file in " << folder;
  EXPECT_GE(present.size(), minimum_files);
}

}  // namespace cascade::testing_support
