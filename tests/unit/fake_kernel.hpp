// tests/unit/fake_kernel: an in-memory MrouteSocket for unit tests of the
// routing engine. Records the VIF slots and MFC entries the router programs,
// counts every call, can be told to refuse add_vif/add_mfc, and answers
// counters with canned values, reports a settable upcall drop count. No
// syscalls; fd() is -1.
#pragma once

#include "smcroute/os/mroute.hpp"

#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace smcroute::test {

struct FakeVif {
    unsigned ifindex = 0;
    uint8_t ttl_threshold = 0;
};

struct FakeMfc {
    IpAddr source;
    IpAddr group;
    unsigned iif_vif = 0;
    std::array<uint8_t, max_vifs> oif_ttl{};

    // VIFs with a non-zero TTL, ascending.
    std::vector<unsigned> oif_vifs() const
    {
        std::vector<unsigned> out;
        for (unsigned v = 0; v < max_vifs; ++v)
            if (oif_ttl[v] != 0)
                out.push_back(v);
        return out;
    }
};

class FakeKernel final : public MrouteSocket {
public:
    using Key = std::pair<IpAddr, IpAddr>; // (source, group)

    explicit FakeKernel(Family family = Family::inet) : family_(family) {}

    Family family() const override { return family_; }
    int fd() const override { return -1; }

    Status add_vif(unsigned vif, unsigned ifindex, uint8_t ttl_threshold) override
    {
        ++add_vif_calls;
        if (fail_add_vif || fail_add_vif_ifindex.count(ifindex))
            return os_error(add_vif_errno, "MRT_ADD_VIF");
        if (vif >= max_vifs) {
            misuse.push_back("add_vif: slot " + std::to_string(vif) + " out of range");
            return os_error(EINVAL, "MRT_ADD_VIF");
        }
        if (vifs.count(vif)) {
            misuse.push_back("add_vif: slot " + std::to_string(vif) + " already in use");
            return os_error(EADDRINUSE, "MRT_ADD_VIF");
        }
        vifs[vif] = FakeVif{ifindex, ttl_threshold};
        return {};
    }

    Status del_vif(unsigned vif, unsigned ifindex) override
    {
        ++del_vif_calls;
        auto it = vifs.find(vif);
        if (it == vifs.end() || it->second.ifindex != ifindex)
            return os_error(EADDRNOTAVAIL, "MRT_DEL_VIF");
        vifs.erase(it);
        return {};
    }

    Status add_mfc(const IpAddr& source, const IpAddr& group, unsigned iif_vif,
                   const std::array<uint8_t, max_vifs>& oif_ttl) override
    {
        ++add_mfc_calls;
        if (fail_add_mfc)
            return os_error(add_mfc_errno, "MRT_ADD_MFC");
        if (source.family() != family_ || group.family() != family_)
            misuse.push_back("add_mfc: address of the wrong family");
        if (!vifs.count(iif_vif))
            misuse.push_back("add_mfc " + group.str() + ": iif vif " + std::to_string(iif_vif) + " not added");
        for (unsigned v = 0; v < max_vifs; ++v)
            if (oif_ttl[v] != 0 && !vifs.count(v))
                misuse.push_back("add_mfc " + group.str() + ": oif vif " + std::to_string(v) + " not added");
        mfc[Key{source, group}] = FakeMfc{source, group, iif_vif, oif_ttl};
        return {};
    }

    Status del_mfc(const IpAddr& source, const IpAddr& group) override
    {
        ++del_mfc_calls;
        if (mfc.erase(Key{source, group}) == 0)
            return os_error(ENOENT, "MRT_DEL_MFC");
        return {};
    }

    Result<MfcCounters> counters(const IpAddr& source, const IpAddr& group) override
    {
        Key k{source, group};
        if (!mfc.count(k))
            return os_error(EADDRNOTAVAIL, "SIOCGETSGCNT");
        auto it = canned_counters.find(k);
        return it == canned_counters.end() ? MfcCounters{} : it->second;
    }

    std::vector<Upcall> read_upcalls() override
    {
        stats.read += upcalls.size();
        return std::exchange(upcalls, {});
    }
    UpcallSocketStats upcall_stats() const override { return stats; }

    // Inspection helpers ------------------------------------------------------
    const FakeMfc* find(const IpAddr& source, const IpAddr& group) const
    {
        auto it = mfc.find(Key{source, group});
        return it == mfc.end() ? nullptr : &it->second;
    }
    std::optional<unsigned> vif_of_ifindex(unsigned ifindex) const
    {
        for (const auto& [vif, v] : vifs)
            if (v.ifindex == ifindex)
                return vif;
        return std::nullopt;
    }
    std::set<unsigned> vif_ifindexes() const
    {
        std::set<unsigned> out;
        for (const auto& [vif, v] : vifs)
            out.insert(v.ifindex);
        return out;
    }

    // Recorded state.
    std::map<unsigned, FakeVif> vifs;
    std::map<Key, FakeMfc> mfc;
    std::map<Key, MfcCounters> canned_counters;
    std::vector<Upcall> upcalls;
    UpcallSocketStats stats; // set stats.dropped to play a full socket queue
    // Things a real kernel would refuse or that indicate a router bug.
    std::vector<std::string> misuse;

    // Switches.
    bool fail_add_vif = false;
    std::set<unsigned> fail_add_vif_ifindex;
    int add_vif_errno = ENOMEM;
    bool fail_add_mfc = false;
    int add_mfc_errno = ENOMEM;

    // Call counters.
    unsigned add_vif_calls = 0, del_vif_calls = 0, add_mfc_calls = 0, del_mfc_calls = 0;

private:
    Family family_;
};

} // namespace smcroute::test
