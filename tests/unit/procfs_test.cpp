// Unit tests of os/procfs: whole files read, bounded; sysctl integers parsed
// as `istream >> int64_t` would.
#include "smcroute/os/procfs.hpp"

#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <unistd.h>

namespace smcroute {
namespace {

using test::TempDir;

TEST(Procfs, ReadsAWholeFile)
{
    TempDir d;
    ASSERT_FALSE(d.path().empty());
    std::string big(100 * 1024 + 7, 'x'); // several read chunks
    big[0] = 'a';
    big.back() = 'z';
    auto r = read_text_file(d.write("big", big), big.size());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, big);

    auto empty = read_text_file(d.write("empty", ""), 10);
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, "");
}

TEST(Procfs, MaxBytesIsTheLargestFileRead)
{
    TempDir d;
    std::string p = d.write("ten", "0123456789");
    auto exact = read_text_file(p, 10);
    ASSERT_TRUE(exact);
    EXPECT_EQ(*exact, "0123456789");
    auto over = read_text_file(p, 9);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, EFBIG);
    EXPECT_EQ(over.error().message.rfind("read " + p + ": ", 0), 0u) << over.error().message;
    auto none = read_text_file(p, 0);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, EFBIG);
}

TEST(Procfs, AMissingFileIsENOENT)
{
    TempDir d;
    auto r = read_text_file(d.path() + "/absent", 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ENOENT);
    EXPECT_EQ(r.error().message, "read " + d.path() + "/absent: No such file or directory");
    auto n = read_sysctl_int(d.path() + "/absent");
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ENOENT);
}

TEST(Procfs, ADirectoryIsAReadError)
{
    TempDir d;
    auto r = read_text_file(d.path(), 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EISDIR);
}

TEST(Procfs, ReadsTheKernelsOwnFiles)
{
    // procfs files report size 0: the reader must not trust st_size.
    auto status = read_text_file("/proc/self/status", 1 << 20);
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_NE(status->find("Pid:"), std::string::npos);
    auto pid_max = read_sysctl_int("/proc/sys/kernel/pid_max");
    ASSERT_TRUE(pid_max) << pid_max.error().message;
    EXPECT_GT(*pid_max, 0);
}

TEST(Procfs, SysctlIntegersParseAsAStreamWould)
{
    EXPECT_EQ(parse_sysctl_int("2\n"), 2);
    EXPECT_EQ(parse_sysctl_int("0"), 0);
    EXPECT_EQ(parse_sysctl_int("  \t\n-1\n"), -1);
    EXPECT_EQ(parse_sysctl_int("+7"), 7);
    EXPECT_EQ(parse_sysctl_int("1048576\n"), 1048576);
    EXPECT_EQ(parse_sysctl_int("12abc"), 12);   // what follows is ignored
    EXPECT_EQ(parse_sysctl_int("4\t4\t4\n"), 4); // multi-value sysctls: the first
    EXPECT_EQ(parse_sysctl_int("9223372036854775807"), INT64_MAX);
    EXPECT_EQ(parse_sysctl_int("-9223372036854775808"), INT64_MIN);
    EXPECT_EQ(parse_sysctl_int(""), std::nullopt);
    EXPECT_EQ(parse_sysctl_int(" \n"), std::nullopt);
    EXPECT_EQ(parse_sysctl_int("abc"), std::nullopt);
    EXPECT_EQ(parse_sysctl_int("-"), std::nullopt);
    EXPECT_EQ(parse_sysctl_int("+-3"), std::nullopt);
    EXPECT_EQ(parse_sysctl_int("++3"), std::nullopt);
    EXPECT_EQ(parse_sysctl_int("9223372036854775808"), std::nullopt); // does not fit
    EXPECT_EQ(parse_sysctl_int(std::string_view("5\0", 2)), 5);
}

TEST(Procfs, ReadSysctlIntSaysWhenTheFileHoldsNoNumber)
{
    TempDir d;
    auto ok = read_sysctl_int(d.write("qrv", "2\n"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 2);
    std::string p = d.write("word", "enabled\n");
    auto bad = read_sysctl_int(p);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, EINVAL);
    EXPECT_EQ(bad.error().message, p + ": not a number");
}

} // namespace
} // namespace smcroute
