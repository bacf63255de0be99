// Test helper: a route from its words, checked by the config's validator
// (model/route_spec); a bad test route fails the test and gives an empty spec.
#pragma once

#include "smcroute/model/route_spec.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace smcroute::test {

inline RouteSpec spec(std::string_view iif, std::string_view source, std::string_view group,
                      std::vector<std::string_view> oifs = {})
{
    auto c = check_route(RouteText{iif, source, group, std::move(oifs)});
    if (!c.value) {
        ADD_FAILURE() << "bad test route: " << (c.issues.empty() ? "" : c.issues.front().message);
        return RouteSpec{};
    }
    return *c.value;
}

} // namespace smcroute::test
