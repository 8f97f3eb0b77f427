// An unusable Config::spool_dir is a ConfigError at construction, naming the path and the
// reason (durability.md, contract point 7). Tests may run as root, where permission bits do not
// stop writes: the read-only directory case runs only for other users; /proc and a path under a
// regular file are unusable for everyone.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "htevents/htevents.hpp"

namespace htevents::testing {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The ConfigError message for `spool_dir`, or "" when the constructor did not throw one.
std::string config_error_for(std::string const& spool_dir) {
  Config config;
  config.endpoint = "http://127.0.0.1:9";  // never reached
  config.spool_dir = spool_dir;
  try {
    Client client("test-write-key", config);
  } catch (ConfigError const& error) {
    return error.what();
  }
  return {};
}

// The message names the path and one of the reasons (the strerror text of errnos that fit, or
// words that say it): any one of `reasons`, case-insensitive.
void expect_names_path_and_reason(std::string const& message, std::string const& path,
                                  std::vector<std::string> const& reasons) {
  ASSERT_FALSE(message.empty()) << "no ConfigError for spool_dir " << path;
  EXPECT_NE(message.find(path), std::string::npos) << "the path is not named: " << message;
  bool named = false;
  for (std::string const& reason : reasons) named = named || lower(message).find(lower(reason)) != std::string::npos;
  EXPECT_TRUE(named) << "no reason given: " << message;
  EXPECT_NE(message.find("spool_dir"), std::string::npos) << "the field is not named: " << message;
}

class UnusableSpoolDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("htevents-spool-dir-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ignored);
    for (auto const& entry : fs::recursive_directory_iterator(root_, ignored))
      fs::permissions(entry.path(), fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(root_, ignored);
  }
  std::string regular_file() const {
    std::string const path = (root_ / "a-regular-file").string();
    std::ofstream(path) << "not a directory\n";
    return path;
  }
  fs::path root_;
};

TEST_F(UnusableSpoolDir, RegularFileIsAConfigErrorNamingIt) {
  std::string const path = regular_file();
  expect_names_path_and_reason(config_error_for(path), path,
                               {std::strerror(ENOTDIR), std::strerror(EEXIST), "not a directory"});
  EXPECT_TRUE(fs::is_regular_file(path)) << "the file was replaced";
}

TEST_F(UnusableSpoolDir, PathUnderARegularFileIsAConfigError) {
  std::string const path = regular_file() + "/spool";
  expect_names_path_and_reason(config_error_for(path), path, {std::strerror(ENOTDIR), "not a directory"});
}

TEST_F(UnusableSpoolDir, PathUnderProcIsAConfigError) {
  // /proc/self takes no new directories, whoever asks (ENOENT on Linux; EACCES/EPERM elsewhere).
  std::string const path = "/proc/self/spool";
  expect_names_path_and_reason(
      config_error_for(path), path,
      {std::strerror(ENOENT), std::strerror(EACCES), std::strerror(EPERM), std::strerror(EROFS)});
}

TEST_F(UnusableSpoolDir, ReadOnlyDirectoryIsAConfigError) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits do not stop root's writes";
  fs::path const dir = root_ / "read-only";
  fs::create_directories(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0500), 0) << std::strerror(errno);
  expect_names_path_and_reason(config_error_for(dir.string()), dir.string(),
                               {std::strerror(EACCES), std::strerror(EPERM), "permission", "writable"});
  EXPECT_TRUE(fs::is_empty(dir)) << "something was created in the read-only directory";
}

}  // namespace
}  // namespace htevents::testing
