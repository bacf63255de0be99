// runtime/burst_release: when the daemon gives its free heap pages back
// after a burst of routing-table changes (a thousand groups joined at once,
// a flood of upcalls): on a periodic tick that saw no change since the
// previous one, once enough changes came since the last release. The
// Daemon asks it on its housekeeping tick with the Router's version() and
// calls os/memory's release_free_memory() when it says so. Owns two
// counters; knows nothing of the heap, the loop or the Router.
#pragma once

#include <cstdint>

namespace smcroute {

class BurstRelease {
public:
    // Changes since the last release that make a burst.
    static constexpr uint64_t burst = 256;

    // A tick with the table's change counter now: true when the heap should
    // be given back (a burst happened and this tick found the table quiet).
    bool tick(uint64_t version);

private:
    uint64_t seen_ = 0;     // version at the previous tick
    uint64_t released_ = 0; // version at the last release
};

} // namespace smcroute
