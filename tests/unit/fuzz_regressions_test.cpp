// Regression tests for defects the libFuzzer targets in tests/fuzz/ found.
// Each test names the target and its reproducer in tests/fuzz/corpus/; the
// memory errors show as failures under -fsanitize=address (SMCROUTE_SANITIZE).
#include "smcroute/model/config.hpp"
#include "smcroute/model/group_packet.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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

// fuzz_group_packet, on its seed corpus/fuzz_group_packet/mld_v2_report
// (Is_Ex ff05::1:3; Is_In ff3e::8000:1 from 2001:db8::1 and ::2): the
// decoded MLDv2 report kept `group` at the default IPv4 0.0.0.0, an address
// of the wrong family in an IPv6 message. A v3 report's group is now the
// unspecified address of its family.
TEST(FuzzRegressions, V3ReportGroupIsOfItsFamily)
{
    std::vector<uint8_t> b = {0x8f, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0xff, 0x05};
    b.resize(28, 0);
    b[25] = 0x01;
    b[27] = 0x03; // ff05::1:3
    std::vector<uint8_t> rec2 = {1, 0, 0, 2, 0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 1};
    b.insert(b.end(), rec2.begin(), rec2.end());
    for (uint8_t last : {1, 2}) {
        std::vector<uint8_t> src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
        b.insert(b.end(), src.begin(), src.end());
    }
    auto d = decode_mld(b);
    ASSERT_TRUE(d.ok()) << drop_reason_name(d.drop());
    EXPECT_EQ(d->group, IpAddr::any(Family::inet6));
    ASSERT_EQ(d->records.size(), 2u);
    EXPECT_EQ(d->records[0].group.str(), "ff05::1:3");
    EXPECT_EQ(d->records[1].sources.size(), 2u);
    EXPECT_EQ(decode_mld(encode_mld(*d)).message(), *d);
    GroupMessage empty;
    empty.kind = GroupMessage::Kind::report;
    auto v4 = decode_igmp(encode_igmp(empty));
    ASSERT_TRUE(v4.ok());
    EXPECT_EQ(v4->group, IpAddr::any(Family::inet));
}

} // namespace
} // namespace smcroute
