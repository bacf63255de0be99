// runtime/mrdisc: RFC 4286 Multicast Router Discovery on the interfaces it is
// given: per interface and family an announcer (initial burst, then periodic
// advertisements with jitter), answers to solicitations and terminations when
// it stops. Owns its raw sockets and timers; knows nothing of config or VIFs.
#pragma once

#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/os/group_socket.hpp"
#include "smcroute/os/interfaces.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/model/mrdisc_packet.hpp"
#include "smcroute/base/result.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace smcroute {

// RFC 4286 section 3.1 variables (defaults as the RFC gives them), plus the
// values advertised for IGMP/MLD.
struct MrdiscTiming {
    std::chrono::milliseconds interval{std::chrono::seconds(20)};         // AdvertisementInterval
    std::chrono::milliseconds max_initial_interval{std::chrono::seconds(2)}; // MaxInitialAdvertisementInterval
    unsigned max_initial_advertisements = 3;                                // MaxInitialAdvertisements
    // MaxMessageRate 10/s: no two messages on one interface closer than this.
    std::chrono::milliseconds min_message_gap{100};

    // AdvertisementJitter: 0.025 * interval.
    std::chrono::milliseconds jitter() const { return interval / 40; }
};

// The unsolicited schedule of one announcer. Pure: the caller draws from its
// own random engine and runs the timer.
class MrdiscSchedule {
public:
    explicit MrdiscSchedule(const MrdiscTiming& timing) : timing_(timing), initial_left_(timing.max_initial_advertisements) {}
    // Delay before the next unsolicited advertisement, counted from the
    // previous one (or from the start): uniform in [0, max_initial_interval]
    // for the first max_initial_advertisements, then uniform in
    // [interval - jitter, interval + jitter].
    std::chrono::milliseconds next(std::mt19937_64& rng);
    // Back to the initial burst (the interface came back).
    void restart() { initial_left_ = timing_.max_initial_advertisements; }
    bool in_initial_burst() const { return initial_left_ > 0; }

private:
    MrdiscTiming timing_;
    unsigned initial_left_;
};

struct MrdiscOptions {
    MrdiscTiming timing;
    // Advertised in every advertisement: IGMPv2/v3 and MLD defaults. The
    // robustness variable is read from net.ipv4.igmp_qrv / net.ipv6.mld_qrv
    // when those exist and this is left 0.
    uint16_t query_interval = 125;
    uint16_t robustness = 0;
    // Random engine seed; 0 draws one from std::random_device.
    uint64_t seed = 0;
    // Tests: called for every message instead of writing to a raw socket;
    // when set, no socket is opened.
    std::function<Status(Family, const Interface&, const MrdiscMessage&)> send;
};

class Mrdisc {
public:
    // The daemon: raw sockets per family, opened when first needed.
    Mrdisc(EventLoop& loop, Logger& log, std::chrono::seconds interval);
    Mrdisc(EventLoop& loop, Logger& log, MrdiscOptions options);
    // Sends a termination on every interface still announced.
    ~Mrdisc();
    Mrdisc(const Mrdisc&) = delete;
    Mrdisc& operator=(const Mrdisc&) = delete;

    // The interfaces that should announce now (flagged mrdisc and present);
    // those not up or not multicast-capable are ignored. New ones start with
    // the initial burst; ones no longer listed get a termination (when the
    // interface is gone that send fails quietly) and stop. An interface whose
    // index changed counts as removed and added.
    void set_interfaces(const std::vector<Interface>& enabled);
    // Terminations everywhere, then idle. Safe to call twice.
    void stop();
    // A solicitation arrived on ifindex: answer with an advertisement, at
    // most one message per timing.min_message_gap on that interface.
    void on_solicitation(Family f, unsigned ifindex);

    // Interface indexes now announcing, ascending.
    std::vector<unsigned> active() const;
    const MrdiscTiming& timing() const { return options_.timing; }

private:
    struct Announcer {
        explicit Announcer(const MrdiscTiming& t) : schedule(t) {}
        MrdiscSchedule schedule;
        EventLoop::TimerId periodic = 0;
        EventLoop::TimerId answer = 0; // a deferred answer to a solicitation
        EventLoop::Clock::time_point last_sent{};
        bool sent_any = false;
    };
    struct Entry {
        Interface iface;
        std::map<Family, Announcer> announcers;
    };
    struct FamilySocket {
        std::optional<GroupSocket> socket;
        bool tried = false;
    };

    void start(const Interface& iface);
    void finish(Entry& e, bool terminate);
    void schedule_next(unsigned ifindex, Family f);
    void advertise(unsigned ifindex, Family f);
    void send(Entry& e, Family f, const MrdiscMessage& m);
    MrdiscMessage advertisement(Family f) const;
    // The family's socket, opening it on first use; null when unavailable.
    GroupSocket* socket_for(Family f);
    void join(Family f, unsigned ifindex, bool join);
    void read_socket(Family f);

    EventLoop& loop_;
    Logger& log_;
    MrdiscOptions options_;
    std::mt19937_64 rng_;
    std::map<unsigned, Entry> entries_; // by ifindex
    std::map<Family, FamilySocket> sockets_;
    uint16_t robustness4_ = 2, robustness6_ = 2;
};

} // namespace smcroute
