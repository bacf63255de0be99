// os/config_files: the disk's FileSource, alone and under the parser.
#include "smcroute/os/config_files.hpp"

#include <gtest/gtest.h>

#include "parse_text.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace smcroute;

namespace {

using test::all;

} // namespace

class DiskFilesTest : public ::testing::Test {
protected:
    std::string dir_;
    void SetUp() override
    {
        char tmpl[] = "/tmp/smcroute-config-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override
    {
        std::string cmd = "rm -rf '" + dir_ + "'";
        ASSERT_EQ(std::system(cmd.c_str()), 0);
    }
    void write(const std::string& name, const std::string& text)
    {
        std::ofstream(dir_ + "/" + name) << text;
    }
};

TEST_F(DiskFilesTest, ReadGlobAndErrors)
{
    ASSERT_EQ(mkdir((dir_ + "/conf.d").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/conf.d/dir.conf").c_str(), 0755), 0);
    write("main.conf", "include conf.d/*.conf\nmroute from eth0 group 225.1.2.3 to eth1\n");
    write("conf.d/b.conf", "phyint eth2\n");
    write("conf.d/a.conf", "phyint eth1\n");
    auto files = make_disk_files();
    auto r = parse_config_file(dir_ + "/main.conf", *files);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.phyints.size(), 2u);
    EXPECT_EQ(r.config.phyints[0].spec.name.view(), "eth1");
    EXPECT_EQ(r.config.phyints[0].loc.file, dir_ + "/conf.d/a.conf");
    EXPECT_EQ(r.config.routes.size(), 1u);

    EXPECT_EQ(files->read(dir_ + "/conf.d").error().message, "Is a directory");
    EXPECT_EQ(files->read(dir_ + "/missing").error().message, "No such file or directory");
    auto missing = parse_config_file(dir_ + "/missing.conf", *files);
    EXPECT_EQ(all(missing), dir_ + "/missing.conf: error: cannot read '" + dir_ +
                                "/missing.conf': No such file or directory");
}

TEST_F(DiskFilesTest, IncludeDirectoryAndMissingFile)
{
    // 'include DIR': DIR/*.conf sorted, not its subdirectories (even one
    // named *.conf) nor other files; a missing include is a warning.
    ASSERT_EQ(mkdir((dir_ + "/conf.d").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/conf.d/dir.conf").c_str(), 0755), 0);
    write("conf.d/dir.conf/x.conf", "phyint eth9\n");
    write("conf.d/20-b.conf", "phyint eth2\n");
    write("conf.d/10-a.conf", "phyint eth1\n");
    write("conf.d/README", "not a config\n");
    write("main.conf", "include conf.d\ninclude gone.conf\ninclude none.d/*.conf\n");
    auto files = make_disk_files();
    auto r = parse_config_file(dir_ + "/main.conf", *files);
    EXPECT_EQ(r.error_count(), 0u) << all(r);
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    EXPECT_EQ(r.diagnostics[0].message, "include 'gone.conf' skipped: No such file or directory");
    ASSERT_EQ(r.config.phyints.size(), 2u);
    EXPECT_EQ(r.config.phyints[0].loc.file, dir_ + "/conf.d/10-a.conf");
    EXPECT_EQ(r.config.phyints[1].loc.file, dir_ + "/conf.d/20-b.conf");
}

TEST_F(DiskFilesTest, OnlyRegularFilesAreRead)
{
    // A FIFO without a writer is refused at once, not waited on.
    ASSERT_EQ(mkfifo((dir_ + "/fifo.conf").c_str(), 0644), 0);
    auto files = make_disk_files();
    auto fifo = files->read(dir_ + "/fifo.conf");
    ASSERT_FALSE(fifo);
    EXPECT_EQ(fifo.error().message, "not a regular file");
    ASSERT_EQ(symlink("/dev/null", (dir_ + "/null.conf").c_str()), 0);
    auto dev = files->read(dir_ + "/null.conf");
    ASSERT_FALSE(dev);
    EXPECT_EQ(dev.error().message, "not a regular file");
    write("empty.conf", "");
    auto empty = files->read(dir_ + "/empty.conf");
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, "");
}

TEST_F(DiskFilesTest, GlobListsFilesSorted)
{
    ASSERT_EQ(mkdir((dir_ + "/d.conf").c_str(), 0755), 0);
    write("b.conf", "");
    write("a.conf", "");
    write("c.txt", "");
    auto files = make_disk_files();
    EXPECT_EQ(files->glob(dir_ + "/*.conf"), (std::vector<std::string>{dir_ + "/a.conf", dir_ + "/b.conf"}));
    EXPECT_TRUE(files->glob(dir_ + "/*.none").empty());
}
