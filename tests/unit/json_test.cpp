// Unit tests for base/json: string escaping and the writer's layout.
#include "smcroute/base/json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace smcroute {
namespace {

TEST(JsonStringTest, Escapes)
{
    EXPECT_EQ(json_string(""), "\"\"");
    EXPECT_EQ(json_string("eth0"), "\"eth0\"");
    EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_string("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
    EXPECT_EQ(json_string(std::string_view("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
    EXPECT_EQ(json_string(std::string_view("a\0b", 3)), "\"a\\u0000b\"");
    EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\""); // UTF-8 passes through
    std::string out = "x";
    append_json_string(out, "a\"b");
    EXPECT_EQ(out, "x\"a\\\"b\"");
}

TEST(JsonStringTest, EscapesDelAndC1Controls)
{
    EXPECT_EQ(json_string("a\x7f" "b"), "\"a\\u007fb\"");
    EXPECT_EQ(json_string("a\xc2\x9b" "b\xc2\x80"), "\"a\\u009bb\\u0080\"");
    // U+00A0 and other UTF-8 with 0x80..0x9f continuation bytes stay.
    EXPECT_EQ(json_string("\xc2\xa0\xe2\x80\xa6\xc3\x89"), "\"\xc2\xa0\xe2\x80\xa6\xc3\x89\"");
    EXPECT_EQ(json_string("\b\f"), "\"\\b\\f\"");
}

TEST(JsonWriterTest, ScalarsAndSeparators)
{
    std::string out;
    JsonWriter w(out);
    w.object()
        .member("name", "eth\"0")
        .member("index", 3u)
        .member("neg", int64_t{-7})
        .member("big", UINT64_MAX)
        .member_bool("up", true)
        .member_bool("down", false)
        .key("vif")
        .null()
        .end();
    EXPECT_EQ(out, "{\"name\": \"eth\\\"0\", \"index\": 3, \"neg\": -7, \"big\": 18446744073709551615, "
                   "\"up\": true, \"down\": false, \"vif\": null}");
}

TEST(JsonWriterTest, NestedContainers)
{
    std::string out;
    JsonWriter w(out);
    w.object().key("a").array().string("x").number(1).boolean(false).object().end().array().end().end();
    w.key("b").object().member("c", "d").end().end();
    EXPECT_EQ(out, "{\"a\": [\"x\", 1, false, {}, []], \"b\": {\"c\": \"d\"}}");
}

TEST(JsonWriterTest, EmptyContainersAndStringArray)
{
    std::string out;
    std::vector<std::string> none, two{"eth1", "eth2"};
    JsonWriter(out)
        .object()
        .string_array("none", none, [](const std::string& s) { return std::string_view(s); })
        .string_array("two", two, [](const std::string& s) { return std::string_view(s); })
        .end();
    EXPECT_EQ(out, "{\"none\": [], \"two\": [\"eth1\", \"eth2\"]}");
}

TEST(JsonWriterTest, TopLevelValues)
{
    std::string out;
    JsonWriter(out).string("a\n");
    EXPECT_EQ(out, "\"a\\n\"");
    out.clear();
    JsonWriter(out).number(uint16_t{42});
    EXPECT_EQ(out, "42");
}

TEST(JsonListTest, StreamedALineAtATime)
{
    EXPECT_EQ(JsonList::open("routes"), "{\"routes\": [");
    EXPECT_EQ(JsonList::close(), "]}");
    JsonList list;
    std::string line = "stale";
    list.next(line).object().member("kind", "rule").end();
    EXPECT_EQ(line, "{\"kind\": \"rule\"}");
    list.next(line).object().member("kind", "route").member("learned", 2u).end();
    EXPECT_EQ(line, ",{\"kind\": \"route\", \"learned\": 2}");
    EXPECT_EQ(list.size(), 2u);
    // The whole document parses as one: open, rows, close.
    EXPECT_EQ(JsonList::open("x") + std::string(JsonList::close()), "{\"x\": []}");
}

} // namespace
} // namespace smcroute
