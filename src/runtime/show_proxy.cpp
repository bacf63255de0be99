// `show proxy`: the IGMP/MLD proxy per interface: the upstream's joins, and
// each downstream's querier and listeners (groups with their filter mode,
// compatibility mode, timers and sources), as text or one JSON object.
#include "smcroute/runtime/show.hpp"

#include "smcroute/base/json.hpp"
#include "smcroute/base/table.hpp"
#include "smcroute/base/text.hpp"
#include "smcroute/model/commands.hpp"

namespace smcroute {

namespace {

// Seconds left until t, rounded up; 0 when past.
uint64_t seconds_until(Clock::time_point t, Clock::time_point now)
{
    if (t <= now)
        return 0;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
    return static_cast<uint64_t>((ms + 999) / 1000);
}

std::string_view role_name(ProxyRole r)
{
    switch (r) {
    case ProxyRole::upstream: return "upstream";
    case ProxyRole::downstream: return "downstream";
    case ProxyRole::none: break;
    }
    return "none";
}

std::string addr_list(const std::vector<IpAddr>& v)
{
    std::string out;
    for (const auto& a : v)
        out += cat(out.empty() ? "" : ", ", a.str());
    return out.empty() ? "-" : out;
}

void json_link(JsonWriter& w, const Proxy::LinkView& v, Clock::time_point now)
{
    w.object().member("interface", v.name.view()).member("family", family_name(v.family));
    w.member("role", role_name(v.role));
    if (v.role == ProxyRole::upstream) {
        w.member_bool("present", v.present).member("queue_dropped", v.queue_dropped);
        w.key("groups").array();
        for (const auto& g : v.joined) {
            w.object().member("group", g.group.str()).member("mode", g.exclude ? "exclude" : "include");
            w.string_array("sources", g.sources, [](const IpAddr& a) { return a.str(); });
            w.end();
        }
        w.end().end();
        return;
    }
    w.member("version", group_version_name(v.family, v.version)).member_bool("querier", v.querier);
    w.member("querier_address", v.querier_address.str());
    w.key("other_querier_expires_in");
    if (v.other_querier_expires)
        w.number(seconds_until(*v.other_querier_expires, now));
    else
        w.null();
    w.key("groups").array();
    for (const auto& g : v.groups) {
        w.object().member("group", g.group.str()).member("mode", g.exclude ? "exclude" : "include");
        w.member("compat", group_version_name(v.family, g.compat));
        w.key("expires_in");
        if (g.exclude)
            w.number(seconds_until(g.expires, now));
        else
            w.null();
        w.key("sources").array();
        for (const auto& s : g.sources) {
            w.object().member("source", s.source.str()).member("expires_in", seconds_until(s.expires, now));
            w.member_bool("forwarding", s.forwarding).end();
        }
        w.end().end();
    }
    w.end();
    w.key("counters").object();
    w.member("queries_sent", v.stats.queries_sent).member("queries_received", v.stats.queries_received);
    w.member("reports", v.stats.reports).member("leaves", v.stats.leaves).member("ignored", v.stats.ignored);
    w.member("malformed", v.counters.malformed).member("denied", v.counters.denied);
    w.member("queue_dropped", v.queue_dropped);
    w.end().end();
}

std::string sources_text(const Querier::GroupView& g, Clock::time_point now)
{
    std::string out;
    for (const auto& s : g.sources)
        out += cat(out.empty() ? "" : ", ", s.source.str(), " (",
                   s.forwarding ? span_text(seconds_until(s.expires, now)) : std::string("blocked"), ")");
    return out.empty() ? "-" : out;
}

void text_link(const Proxy::LinkView& v, Clock::time_point now, bool headings, Reply& reply)
{
    auto emit = [&](std::string_view line) { reply.row(cat("  ", line)); };
    if (v.role == ProxyRole::upstream) {
        reply.row(cat(v.name.view(), " (", family_name(v.family), " upstream)",
                      v.present ? cat(": ", v.joined.size(), " group(s) joined") : ": interface not present"));
        Table t({"GROUP", "JOIN", "SOURCES"});
        for (const auto& g : v.joined)
            t.add({g.group.str(), g.exclude ? "ASM" : "SSM", g.exclude ? "-" : addr_list(g.sources)});
        if (!t.empty())
            t.render(headings, emit);
        return;
    }
    std::string querier =
        v.querier ? cat("querier ", v.querier_address.str(), " (this router)")
                  : cat("querier ", v.querier_address.str(),
                        v.other_querier_expires
                            ? cat(" (other router, takeover in ", span_text(seconds_until(*v.other_querier_expires, now)), ")")
                            : std::string(" (other router)"));
    reply.row(cat(v.name.view(), " (", family_name(v.family), " downstream, ",
                  group_version_name(v.family, v.version), "): ", querier, "; ", v.groups.size(), " group(s)"));
    reply.row(cat("  counters: queries sent ", v.stats.queries_sent, ", received ", v.stats.queries_received,
                  "; reports ", v.stats.reports, ", leaves ", v.stats.leaves, ", ignored ", v.stats.ignored,
                  ", malformed ", v.counters.malformed, ", denied ", v.counters.denied,
                  "; lost in a full receive queue (all ", family_name(v.family), " links) ", v.queue_dropped));
    Table t({"GROUP", "MODE", "COMPAT", "EXPIRES", "SOURCES"});
    for (const auto& g : v.groups)
        t.add({g.group.str(), g.exclude ? "exclude" : "include", std::string(group_version_name(v.family, g.compat)),
               g.exclude ? span_text(seconds_until(g.expires, now)) : "-", sources_text(g, now)});
    if (!t.empty())
        t.render(headings, emit);
}

} // namespace

void show_proxy(const ShowSources& from, const Request& req, Reply& reply)
{
    const Proxy* proxy = from.proxy;
    if (!proxy) {
        reply.end(exit_code::failed, "show proxy: the proxy is not available");
        return;
    }
    const bool json = req.flags & req_json;
    const auto now = proxy->now();
    const auto views = proxy->views();
    if (json) {
        reply.row(JsonList::open("proxy"));
        JsonList list;
        std::string row;
        for (const auto& v : views) {
            JsonWriter w = list.next(row);
            json_link(w, v, now);
            reply.row(row);
        }
        reply.row(JsonList::close());
    } else if (views.empty()) {
        reply.row("No IGMP/MLD proxy configured (phyint IFNAME upstream / downstream).");
    } else {
        for (const auto& v : views)
            text_link(v, now, req.flags & req_headings, reply);
    }
    reply.end(exit_code::ok, "");
}

} // namespace smcroute
