// tests/unit/fake_membership: an in-memory MembershipKernel for unit tests
// of what drives GroupManager. Keeps the set of memberships held and counts
// every join and leave. No syscalls.
#pragma once

#include "smcroute/base/log.hpp"
#include "smcroute/os/membership.hpp"

#include <cerrno>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

namespace smcroute::test {

class FakeMembership final : public MembershipKernel {
public:
    using Key = std::tuple<unsigned, std::optional<IpAddr>, IpAddr>; // (ifindex, source, group)

    Status join(const Membership& m) override
    {
        ++joins;
        if (!held.insert(Key{m.ifindex, m.source, m.group}).second)
            return Error{EADDRINUSE, cat("already joined: ", m.str())};
        return {};
    }
    Status leave(const Membership& m) override
    {
        ++leaves;
        if (held.erase(Key{m.ifindex, m.source, m.group}) == 0)
            return Error{EADDRNOTAVAIL, cat("not joined: ", m.str())};
        return {};
    }
    void forget_interface(unsigned ifindex) override
    {
        forgotten.push_back(ifindex);
        std::erase_if(held, [&](const Key& k) { return std::get<0>(k) == ifindex; });
    }

    std::set<Key> held;
    std::vector<unsigned> forgotten;
    unsigned joins = 0, leaves = 0;
};

} // namespace smcroute::test
