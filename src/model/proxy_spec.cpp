// model/proxy_spec: the allow/deny judgement of a downstream's filter.
#include "smcroute/model/proxy_spec.hpp"

namespace smcroute {

namespace {

bool judge(const std::vector<ProxyFilterRule>& rules, bool source, const IpAddr& a)
{
    const ProxyFilterRule* best = nullptr;
    bool any_allow = false;
    for (const auto& r : rules) {
        if (r.source != source || r.prefix.family() != a.family())
            continue;
        any_allow = any_allow || r.allow;
        if (r.prefix.contains(a) && (!best || r.prefix.len > best->prefix.len))
            best = &r;
    }
    if (best)
        return best->allow;
    return !any_allow;
}

} // namespace

bool GroupFilter::allows_group(const IpAddr& group) const { return judge(rules, false, group); }

bool GroupFilter::allows_source(const IpAddr& source) const { return judge(rules, true, source); }

} // namespace smcroute
