// os/regular_file: one regular file read whole, bounded, never hanging.
#include "smcroute/os/regular_file.hpp"

#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include <cerrno>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace smcroute;
using test::TempDir;

TEST(RegularFile, ReadsTheWholeFileUpToTheCap)
{
    TempDir d;
    ASSERT_FALSE(d.path().empty());
    std::string big(40000, 'x'); // more than one read's worth
    big += "end\n";
    auto r = read_regular_file(d.write("big", big), 1u << 20);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, big);
    auto empty = read_regular_file(d.write("empty", ""), 1u << 20);
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_EQ(*empty, "");

    std::string cap(1u << 20, 'y');
    auto at = read_regular_file(d.write("at", cap), 1u << 20);
    ASSERT_TRUE(at) << at.error().message;
    EXPECT_EQ(at->size(), size_t{1} << 20);
    auto past = read_regular_file(d.write("past", cap + "y"), 1u << 20);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, EFBIG);
    EXPECT_EQ(past.error().message, "larger than 1 MiB");
}

TEST(RegularFile, OnlyRegularFiles)
{
    TempDir d;
    ASSERT_FALSE(d.path().empty());
    auto missing = read_regular_file(d.path() + "/missing", 1u << 20);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ENOENT);
    EXPECT_EQ(missing.error().message, "No such file or directory");
    auto dir = read_regular_file(d.path(), 1u << 20);
    ASSERT_FALSE(dir);
    EXPECT_EQ(dir.error().code, EISDIR);
    EXPECT_EQ(dir.error().message, "Is a directory");
    std::string fifo = d.path() + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    bool asked = false;
    auto f = read_regular_file(fifo, 1u << 20, [&](const struct stat&) -> Status {
        asked = true;
        return {};
    }); // no writer: must not hang
    ::unlink(fifo.c_str());
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, 0);
    EXPECT_EQ(f.error().message, "not a regular file");
    EXPECT_FALSE(asked); // accept sees regular files only
}

TEST(RegularFile, AcceptSeesTheOpenedFileBeforeItsBytes)
{
    TempDir d;
    ASSERT_FALSE(d.path().empty());
    std::string path = d.write("f", std::string(3u << 20, 'z'));
    struct stat seen{};
    auto r = read_regular_file(path, 1u << 20, [&](const struct stat& st) -> Status {
        seen = st;
        return Error{EPERM, "refused"};
    });
    ASSERT_FALSE(r);
    // The refusal wins over the size: it came before the reading.
    EXPECT_EQ(r.error().code, EPERM);
    EXPECT_EQ(r.error().message, "refused");
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(seen.st_ino, st.st_ino);
    EXPECT_EQ(seen.st_size, st.st_size);
    auto ok = read_regular_file(path, 4u << 20, [](const struct stat&) -> Status { return {}; });
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->size(), size_t{3} << 20);
}
