// Test helper: a Reply that keeps every row and the END of one answer, and
// pulls a streamed answer to its end at once, counting the pulls. Shared by
// the unit tests of runtime/control and of the show renderers.
#pragma once

#include "smcroute/runtime/ipc_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute::test {

class RecordingReply final : public Reply {
public:
    void row(std::string_view text) override
    {
        EXPECT_EQ(ends, 0) << "row after end";
        rows.emplace_back(text);
    }
    void end(uint32_t s, std::string_view m) override
    {
        ++ends;
        status = s;
        message = m;
    }
    void stream(Producer producer) override
    {
        while (producer(*this))
            ++pulls;
    }
    bool has(std::string_view line) const { return std::find(rows.begin(), rows.end(), line) != rows.end(); }
    // Every row, each ended by a newline.
    std::string all() const
    {
        std::string out;
        for (const auto& r : rows)
            out += r + "\n";
        return out;
    }
    std::vector<std::string> rows;
    int ends = 0;
    size_t pulls = 0;
    uint32_t status = 9999;
    std::string message;
};

} // namespace smcroute::test
