// os/membership: group memberships (IGMP/MLD joins, ASM and SSM) held on a
// pool of UDP sockets that never receive anything, spread over as many sockets
// as the kernel's per-socket limits need. Joins by ifindex; knows nothing of
// interface names (except for messages), of the config file or of routes.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace smcroute {

// One kernel membership: (ifindex, group) for ASM, (ifindex, source, group) for SSM.
struct Membership {
    unsigned ifindex = 0;
    IfName ifname;                // for messages only; not part of the key
    std::optional<IpAddr> source; // SSM when set
    IpAddr group;

    Family family() const { return group.family(); }
    // "225.1.2.3 on eth0 (ifindex 3)", "(10.0.0.1, 232.1.2.3) on eth0 (ifindex 3)"
    std::string str() const;
};

// The kernel side of group membership, as GroupManager sees it. Implemented
// by MembershipPool; the unit tests use a fake.
class MembershipKernel {
public:
    virtual ~MembershipKernel() = default;
    // Errors name the membership: "join 225.1.2.3 on eth0 (ifindex 3): No such device".
    // Joining what is already joined is an error (EADDRINUSE).
    virtual Status join(const Membership& m) = 0;
    // Only what join() accepted; anything else is "not joined: ..." (EADDRNOTAVAIL).
    // Leaving on an interface that has vanished succeeds (the kernel dropped it).
    virtual Status leave(const Membership& m) = 0;
    // The interface is gone: drop every membership on it, in the kernel as far
    // as it still holds any (IPv4 sockets keep stale entries that count against
    // their limit) and in the bookkeeping. Never fails.
    virtual void forget_interface(unsigned ifindex) = 0;
};

class MembershipPool final : public MembershipKernel {
public:
    MembershipPool();
    ~MembershipPool() override; // closing the sockets leaves every group
    MembershipPool(const MembershipPool&) = delete;
    MembershipPool& operator=(const MembershipPool&) = delete;

    Status join(const Membership& m) override;
    Status leave(const Membership& m) override;
    void forget_interface(unsigned ifindex) override;
    // Leave everything and close every socket.
    void clear();

    struct Stats {
        size_t joins = 0;           // memberships held
        size_t sockets = 0;         // sockets open
        size_t group_capacity = 0;  // learned (ifindex, group) pairs per socket; 0 = not yet hit
        size_t source_capacity = 0; // learned sources per group per socket; 0 = not yet hit
    };
    Stats stats(Family f) const;

private:
    struct GroupKey {
        unsigned ifindex;
        IpAddr group;
        friend bool operator==(const GroupKey&, const GroupKey&) = default;
    };
    struct JoinKey { // an SSM join
        unsigned ifindex;
        IpAddr group;
        IpAddr source;
        friend bool operator==(const JoinKey&, const JoinKey&) = default;
    };
    struct GroupKeyHash {
        size_t operator()(const GroupKey& k) const noexcept;
    };
    struct JoinKeyHash {
        size_t operator()(const JoinKey& k) const noexcept;
    };
    struct Socket {
        UniqueFd fd;
        size_t groups = 0; // (ifindex, group) pairs held: one Holding each in holders
    };
    // One socket's membership of one (ifindex, group). A socket holds each
    // pair at most once: either ASM, or SSM with one or more sources.
    struct Holding {
        uint32_t sock = 0;
        bool ssm = false;
        size_t sources = 0;
        bool sources_full = false; // refused another source
    };
    struct FamilyPool {
        Family family = Family::inet;
        std::vector<Socket> sockets;      // by id; closed slots have no fd
        std::vector<uint32_t> free_ids;   // closed slots for reuse
        std::set<uint32_t> with_room;     // open sockets that have not refused a group
        std::unordered_map<GroupKey, std::vector<Holding>, GroupKeyHash> holders;
        // The SSM joins by source; an ASM join is its Holding (ssm false) alone.
        std::unordered_map<JoinKey, uint32_t, JoinKeyHash> joins;
        size_t asm_joins = 0;
        size_t group_capacity = 0;
        size_t source_capacity = 0;
    };

    static Holding* asm_holding(std::vector<Holding>& hs); // the ASM one, or null
    FamilyPool& pool(Family f) { return f == Family::inet ? v4_ : v6_; }
    const FamilyPool& pool(Family f) const { return f == Family::inet ? v4_ : v6_; }
    Result<uint32_t> open_socket(FamilyPool& fp, const Membership& m);
    void release_group(FamilyPool& fp, const GroupKey& gk, uint32_t sock);
    void close_if_empty(FamilyPool& fp, uint32_t sock);

    FamilyPool v4_, v6_;
};

// Raise the soft RLIMIT_NOFILE to the hard limit (each socket holds only
// igmp_max_memberships IPv4 joins). Returns the soft limit now in force.
Result<uint64_t> raise_nofile_limit();

} // namespace smcroute
