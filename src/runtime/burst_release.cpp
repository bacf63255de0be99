// runtime/burst_release: see the header.
#include "smcroute/runtime/burst_release.hpp"

namespace smcroute {

bool BurstRelease::tick(uint64_t version)
{
    const bool quiet = version == seen_;
    seen_ = version;
    if (!quiet || version - released_ < burst)
        return false;
    released_ = version;
    return true;
}

} // namespace smcroute
