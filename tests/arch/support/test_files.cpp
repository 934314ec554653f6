// Reading inputs (regular files, size cap) and writing outputs (temporary file + rename,
// all or none, every write checked, never over an input).
#include "arch/support/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "arch/support/error.h"

namespace cascade {
namespace {

namespace fs = std::filesystem;

std::string dir_for(const std::string& name) {
  const fs::path d = fs::path(CASCADE_BINARY_DIR) / "test-files" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool has_temporaries(const std::string& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

TEST(ReadInputFile, ReadsRegularFilesWhole) {
  const std::string d = dir_for("read");
  std::string text(200000, 'x');
  text[12345] = '\0';
  put(d + "/a.yaml", text);
  EXPECT_EQ(read_input_file(d + "/a.yaml", "cascade file"), text);
}

TEST(ReadInputFile, RefusesWhatIsNotARegularFileOrTooLarge) {
  const std::string d = dir_for("refuse");
  EXPECT_EQ(message_of([&] { read_input_file(d + "/missing.yaml", "cascade file"); }),
            d + "/missing.yaml: error: cannot open cascade file: No such file or directory");
  EXPECT_NE(message_of([&] { read_input_file(d, "cascade file"); }).find("it is a directory"),
            std::string::npos);
  EXPECT_NE(message_of([&] { read_input_file("/dev/zero", "architecture file"); })
                .find("it is a character device, not a regular file"),
            std::string::npos);
  ASSERT_EQ(::mkfifo((d + "/fifo").c_str(), 0600), 0);
  EXPECT_NE(message_of([&] { read_input_file(d + "/fifo", "file"); }).find("a FIFO"),
            std::string::npos);  // and it did not wait for a writer
  put(d + "/big.yaml", std::string(2000, 'x'));
  EXPECT_NE(message_of([&] { read_input_file(d + "/big.yaml", "file", 1000); })
                .find("more than the 1000 B an input file may have"),
            std::string::npos);
}

TEST(OutputFiles, WritesEveryOutputAndLeavesNoTemporaries) {
  const std::string d = dir_for("write");
  put(d + "/old.json", "old");
  OutputFiles out;
  out.add(d + "/old.json", "--json", "new json");
  out.add(d + "/new.csv", "--csv", "a,b\n");
  out.commit();
  EXPECT_EQ(slurp(d + "/old.json"), "new json");
  EXPECT_EQ(slurp(d + "/new.csv"), "a,b\n");
  EXPECT_FALSE(has_temporaries(d));
}

TEST(OutputFiles, OneFailedOutputLeavesEveryTargetAsItWas) {
  const std::string d = dir_for("all-or-none");
  put(d + "/a.json", "previous");
  OutputFiles out;
  out.add(d + "/a.json", "--json", "replacement");
  out.add(d + "/b.csv", "--csv", "x");
  out.add(d + "/no-such-dir/c.json", "--trace", "y");
  const std::string m = message_of([&] { out.commit(); });
  EXPECT_EQ(m, "error: cannot write --trace file '" + d +
                   "/no-such-dir/c.json': No such file or directory");
  EXPECT_EQ(slurp(d + "/a.json"), "previous");
  EXPECT_FALSE(fs::exists(d + "/b.csv"));
  EXPECT_FALSE(has_temporaries(d));
}

TEST(OutputFiles, AFullDeviceIsAnErrorWithTheOsMessage) {
  EXPECT_EQ(message_of([] { write_output_file("/dev/full", "--csv", "x"); }),
            "error: cannot write --csv file '/dev/full': No space left on device");
  EXPECT_NO_THROW(write_output_file("/dev/null", "--json", "x"));  // a device: written in place
}

TEST(OutputFiles, AnOutputOverAnInputOrAnotherOutputIsRefused) {
  const std::string d = dir_for("paths");
  put(d + "/arch.yaml", "arch");
  EXPECT_NE(message_of([&] {
              OutputFiles::check_paths({{d + "/arch.yaml", "--json"}},
                                       {{d + "/arch.yaml", "arch file"}});
            }).find("is the arch file this command reads"),
            std::string::npos);
  // The same file by another spelling of its path.
  EXPECT_NE(message_of([&] {
              OutputFiles::check_paths({{d + "/./arch.yaml", "--json"}},
                                       {{d + "/../paths/arch.yaml", "arch file"}});
            }).find("refusing to overwrite an input"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              OutputFiles::check_paths({{d + "/x.json", "--json"}, {d + "/x.json", "--trace"}}, {});
            }).find("--trace and --json name the same file"),
            std::string::npos);
  EXPECT_NO_THROW(OutputFiles::check_paths({{d + "/y.json", "--json"}, {"", "--csv"}},
                                           {{d + "/arch.yaml", "arch file"}}));
  EXPECT_NO_THROW(
      OutputFiles::check_paths({{"/dev/null", "--json"}, {"/dev/null", "--trace"}}, {}));
}

TEST(OutputFiles, ASymbolicLinkKeepsPointingAtTheNewContents) {
  const std::string d = dir_for("symlink");
  put(d + "/real.csv", "old");
  fs::create_symlink(d + "/real.csv", d + "/link.csv");
  write_output_file(d + "/link.csv", "--csv", "new");
  EXPECT_TRUE(fs::is_symlink(d + "/link.csv"));
  EXPECT_EQ(slurp(d + "/real.csv"), "new");
}

// StagedOutput (the VCD): the writer's file replaces the target only on commit().
TEST(StagedOutput, ReplacesTheTargetOnlyWhenCommitted) {
  const std::string d = dir_for("staged");
  put(d + "/run.vcd", "previous");
  {
    StagedOutput out(d + "/run.vcd", "--vcd", ".vcd");
    EXPECT_EQ(fs::path(out.temp()).parent_path(), fs::path(d));
    EXPECT_EQ(out.temp().substr(out.temp().size() - 4), ".vcd");
    put(out.temp(), "half a run");
  }  // a failed run: never committed
  EXPECT_EQ(slurp(d + "/run.vcd"), "previous");
  EXPECT_FALSE(has_temporaries(d));
  {
    StagedOutput out(d + "/run.vcd", "--vcd", ".vcd");
    put(out.temp(), "the whole run");
    out.commit();
  }
  EXPECT_EQ(slurp(d + "/run.vcd"), "the whole run");
  EXPECT_FALSE(has_temporaries(d));
  StagedOutput device("/dev/null", "--vcd", ".vcd");  // a device gets the contents
  put(device.temp(), "x");
  EXPECT_NO_THROW(device.commit());
  EXPECT_EQ(message_of([&] { StagedOutput(d, "--vcd"); }),
            "error: cannot write --vcd file '" + d + "': it is a directory");
}

}  // namespace
}  // namespace cascade
