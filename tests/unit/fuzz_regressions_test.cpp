// Regression tests for defects the libFuzzer targets in tests/fuzz/ found.
// Each test names the target and its reproducer in tests/fuzz/corpus/; the
// memory errors show as failures under -fsanitize=address (SMCROUTE_SANITIZE).
#include "smcroute/model/config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smcroute {
namespace {

// fuzz_config, corpus/fuzz_config/regress_glob_include_uaf: an include glob
// matching several files kept a reference to the include line's words while
// the first matched file was parsed; a longer line in that file reallocated
// the word list, and the next match read the freed memory (heap-use-after-free
// in Parser::parse_include). Here the third match is the including file
// itself, so the freed column also ends up in a diagnostic.
TEST(FuzzRegressions, GlobIncludeOfSeveralFilesAfterALongLine)
{
    MemoryFiles files;
    files.files["/etc/smcroute.d/main.conf"] = "include *.conf\n";
    files.files["/etc/smcroute.d/a.conf"] =
        "mroute from eth0 group 225.1.2.3 to eth1 eth2 eth3 eth4 eth5 eth6 eth7 eth8 eth9 eth10\n";
    files.files["/etc/smcroute.d/b.conf"] = "mgroup from eth0 group 225.1.2.4\n";

    auto r = parse_config_file("/etc/smcroute.d/main.conf", files);
    ASSERT_EQ(r.config.routes.size(), 1u);
    EXPECT_EQ(r.config.joins.size(), 1u);
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].line, 1u);
    EXPECT_EQ(r.diagnostics[0].col, 9u);
    EXPECT_NE(r.diagnostics[0].message.find("includes itself"), std::string::npos) << r.diagnostics[0].message;
}

// fuzz_config, corpus/fuzz_config/regress_glob_include_uaf itself (the
// fuzzer's file-set format, written out).
TEST(FuzzRegressions, GlobIncludeReproducer)
{
    MemoryFiles files;
    files.files["/etc/smcroute.conf"] = "include smcroute.d/*.conf";
    files.files["/etc/smcroute.d/a.conf"] = "mroute from eth0 group 225.1.2.3 to eth1 eth2 eth3 eth4";
    files.files["/etc/smcroute.d/b.conf"] = "";
    auto r = parse_config_file("/etc/smcroute.conf", files);
    EXPECT_EQ(r.error_count(), 0u);
    EXPECT_EQ(r.config.routes.size(), 1u);
}

} // namespace
} // namespace smcroute
