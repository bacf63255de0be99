// Test helper for the reload-plan tests: a config parsed from text (it must
// be valid), and the RunningState of a daemon running one (its routes merged
// by key, as the router merges them).
#pragma once

#include "smcroute/model/config.hpp"
#include "smcroute/model/plan.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace smcroute::test {

inline Config parse_valid(std::string_view text, const char* name = "new.conf")
{
    MemoryFiles files;
    auto r = parse_config_text(text, name, files);
    EXPECT_EQ(r.error_count(), 0u) << (r.diagnostics.empty() ? "" : r.diagnostics[0].format());
    return std::move(r.config);
}

inline RunningState running_of(std::string_view text, const char* name = "old.conf")
{
    Config cfg = parse_valid(text, name);
    auto plan = plan_reload(RunningState{}, cfg);
    EXPECT_TRUE(plan.ok());
    RunningState st;
    for (auto& r : plan->add_routes)
        st.routes.push_back(r.spec);
    for (auto& j : plan->join)
        st.joins.push_back(j.spec);
    if (plan->phyints)
        st.phyints = *plan->phyints;
    return st;
}

} // namespace smcroute::test
