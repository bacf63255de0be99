// tests/unit/fake_membership: an in-memory MembershipKernel for unit tests
// of what drives GroupManager. Keeps the set of memberships held, counts
// every join and leave, and can be told to refuse one join. No syscalls.
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
        Key k{m.ifindex, m.source, m.group};
        if (refuse && *refuse == k)
            return Error{ENOBUFS, cat("join ", m.str(), ": No buffer space available")};
        if (!held.insert(k).second)
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
    bool has(unsigned ifindex, std::optional<IpAddr> source, IpAddr group) const
    {
        return held.contains(Key{ifindex, source, group});
    }
    size_t on(unsigned ifindex) const
    {
        size_t n = 0;
        for (const auto& k : held)
            n += std::get<0>(k) == ifindex;
        return n;
    }

    std::set<Key> held;
    std::optional<Key> refuse; // this join fails with ENOBUFS
    std::vector<unsigned> forgotten;
    size_t joins = 0, leaves = 0;
};

} // namespace smcroute::test
