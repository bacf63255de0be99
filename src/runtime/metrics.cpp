#include "smcroute/runtime/metrics.hpp"

#include "smcroute/base/table.hpp"
#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/show.hpp"

namespace smcroute {

std::string prometheus_label_value(std::string_view text)
{
    std::string safe = terminal_escape(text);
    std::string out;
    out.reserve(safe.size());
    for (char c : safe) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

namespace {

using Line = std::function<void(std::string_view)>;

// One metric family: its HELP and TYPE lines, then its samples.
class Family {
public:
    Family(const Line& line, std::string_view name, std::string_view type, std::string_view help)
        : line_(line), name_(name)
    {
        line_(cat("# HELP ", name, " ", help));
        line_(cat("# TYPE ", name, " ", type));
    }
    template <class N>
    void sample(N value, std::string_view labels = {})
    {
        buf_.assign(name_);
        if (!labels.empty())
            buf_.append("{").append(labels).append("}");
        buf_.append(" ").append(cat(value));
        line_(buf_);
    }

private:
    const Line& line_;
    std::string_view name_;
    std::string buf_;
};

template <class N>
void single(const Line& line, std::string_view name, std::string_view type, std::string_view help, N value)
{
    Family(line, name, type, help).sample(value);
}

std::string label(std::string_view name, std::string_view value)
{
    return cat(name, "=\"", prometheus_label_value(value), "\"");
}

std::string_view kind_name(RouteView::Kind k)
{
    switch (k) {
    case RouteView::Kind::rule: return "rule";
    case RouteView::Kind::learned: return "learned";
    case RouteView::Kind::stop: return "stop";
    case RouteView::Kind::route: return "route";
    }
    return "?";
}

void write_daemon(const StatusSnapshot& s, const Line& line)
{
    const DaemonStatus& d = s.daemon;
    Family(line, "smcroute_build_info", "gauge", "Version of the running smcroute (always 1)")
        .sample(1, label("version", d.version));
    single(line, "smcroute_start_time_seconds", "gauge", "When the daemon started, seconds since 1970",
           d.started_unix);
    single(line, "smcroute_uptime_seconds", "gauge", "Seconds since the daemon started", d.uptime_seconds);
    single(line, "smcroute_config_last_load_timestamp_seconds", "gauge",
           "When the config file was last loaded (start or reload), 0 before", d.last_load.at_unix);
    single(line, "smcroute_config_last_load_success", "gauge",
           "1 when the last load of the config file was applied, 0 when it was refused",
           d.last_load.outcome == ConfigLoad::Outcome::refused || d.last_load.outcome == ConfigLoad::Outcome::none
               ? 0
               : 1);
    single(line, "smcroute_config_last_load_errors", "gauge", "Errors found by the last load of the config file",
           d.last_load.errors);
    single(line, "smcroute_reloads_total", "counter", "Reloads applied", d.reloads_done);
    single(line, "smcroute_reloads_refused_total", "counter", "Reloads refused for errors in the config",
           d.reloads_refused);

    single(line, "smcroute_static_routes", "gauge", "(S,G) routes from the config and clients",
           s.routes.static_routes);
    single(line, "smcroute_rules", "gauge", "(*,G) and prefix rules", s.routes.rules);
    single(line, "smcroute_learned_routes", "gauge", "Kernel entries learned from rules", s.routes.learned);
    single(line, "smcroute_stop_filters", "gauge", "Stop filters for sources no rule forwards",
           s.routes.stop_filters);
    single(line, "smcroute_pending_routes", "gauge", "Routes and rules not in the kernel (missing interface)",
           s.routes.pending);
    single(line, "smcroute_max_learned_routes", "gauge", "Limit on learned routes plus stop filters, 0 none",
           d.max_learned);
    {
        Family f(line, "smcroute_vifs_used", "gauge", "Kernel interface slots in use (VIFs, MIFs) per family");
        f.sample(s.routes.vifs_inet, "family=\"inet\"");
        f.sample(s.routes.mifs_inet6, "family=\"inet6\"");
    }
    single(line, "smcroute_vifs_max", "gauge", "Kernel interface slots per family", max_vifs);
    if (s.joins_known) {
        Family f(line, "smcroute_joins", "gauge", "Group joins of the daemon by family and state");
        for (size_t i = 0; i < 2; ++i) {
            std::string_view fam = i == 0 ? "inet" : "inet6";
            f.sample(s.joins[i].active, cat("family=\"", fam, "\",state=\"active\""));
            f.sample(s.joins[i].pending, cat("family=\"", fam, "\",state=\"pending\""));
        }
    }

    single(line, "smcroute_upcalls_received_total", "counter", "Kernel upcalls (NOCACHE, WRONGVIF) handled",
           s.upcalls.received);
    single(line, "smcroute_routes_installed_from_rules_total", "counter",
           "Kernel entries installed from (*,G) rules", s.upcalls.installed);
    single(line, "smcroute_upcalls_kernel_dropped_total", "counter",
           "Upcalls the kernel dropped, the socket queue being full (SO_RXQ_OVFL)", s.upcalls.kernel_dropped);
    single(line, "smcroute_upcalls_refused_total", "counter",
           "Upcalls not answered: the --max-learned limit was reached", s.upcalls.refused);

    single(line, "smcroute_ipc_clients_served_total", "counter", "Client connections accepted", d.ipc.accepted);
    single(line, "smcroute_ipc_clients_refused_total", "counter", "Client connections refused (no free slot)",
           d.ipc.refused);
    single(line, "smcroute_ipc_requests_total", "counter", "Client requests handled", d.ipc.requests);
    single(line, "smcroute_ipc_clients", "gauge", "Clients connected now", d.ipc_clients);
}

// The rows of the first `limit` rules and routes, in listing order.
struct Rows {
    struct Rule {
        std::string labels;
        size_t learned = 0;
        MfcCounters sum;
    };
    struct Route {
        std::string labels;
        MfcCounters counters;
    };
    std::vector<Rule> rules;
    std::vector<Route> routes;
    size_t rules_seen = 0, routes_seen = 0;
};

Rows collect(const Router& router, size_t limit)
{
    Rows rows;
    auto listing = router.list();
    bool more = true;
    while (more && (rows.rules_seen < router.rule_count() || rows.routes_seen < limit)) {
        more = listing.next(256, [&](const RouteView& v) {
            if (v.kind == RouteView::Kind::rule) {
                if (rows.rules_seen++ >= limit)
                    return;
                const RouteSpec& spec = *v.spec;
                rows.rules.push_back({cat(label("iif", spec.iif.view()), ",",
                                          label("source", spec.any_source() ? "*" : spec.source.str()), ",",
                                          label("group", spec.group.str())),
                                      v.learned, router.learned_totals(spec)});
                return;
            }
            if (rows.routes_seen++ >= limit || !v.active)
                return;
            auto c = router.counters(v.key);
            if (!c)
                return;
            rows.routes.push_back({cat(label("iif", v.iif), ",", label("source", v.key.source.str()), ",",
                                       label("group", v.key.group.str()), ",", label("kind", kind_name(v.kind))),
                                   *c});
        });
    }
    return rows;
}

void write_rows(const Router& router, size_t limit, const Line& line)
{
    Rows rows = collect(router, limit);
    single(line, "smcroute_metrics_series_limit", "gauge",
           "Rules and routes given series of their own, each (the first in show routes order)", limit);
    single(line, "smcroute_metrics_rules_omitted", "gauge", "Rules past the series limit, without series",
           router.rule_count() > limit ? router.rule_count() - limit : 0);
    const size_t routes = router.static_count() + router.dynamic_count();
    single(line, "smcroute_metrics_routes_omitted", "gauge", "Routes past the series limit, without series",
           routes > limit ? routes - limit : 0);
    {
        Family f(line, "smcroute_rule_learned_routes", "gauge", "Kernel entries learned from a rule");
        for (const auto& r : rows.rules)
            f.sample(r.learned, r.labels);
    }
    {
        Family f(line, "smcroute_rule_learned_packets", "gauge",
                 "Packets forwarded by the entries a rule has learned now (their kernel counters summed)");
        for (const auto& r : rows.rules)
            f.sample(r.sum.packets, r.labels);
    }
    {
        Family f(line, "smcroute_rule_learned_bytes", "gauge",
                 "Bytes forwarded by the entries a rule has learned now (their kernel counters summed)");
        for (const auto& r : rows.rules)
            f.sample(r.sum.bytes, r.labels);
    }
    {
        Family f(line, "smcroute_route_packets_total", "counter", "Packets forwarded by a kernel entry");
        for (const auto& r : rows.routes)
            f.sample(r.counters.packets, r.labels);
    }
    {
        Family f(line, "smcroute_route_bytes_total", "counter", "Bytes forwarded by a kernel entry");
        for (const auto& r : rows.routes)
            f.sample(r.counters.bytes, r.labels);
    }
    {
        Family f(line, "smcroute_route_wrong_interface_packets_total", "counter",
                 "Packets of a kernel entry that arrived on another interface than its inbound one");
        for (const auto& r : rows.routes)
            f.sample(r.counters.wrong_if, r.labels);
    }
}

} // namespace

void write_metrics(const StatusSnapshot& status, const Router& router, size_t limit, const Line& line)
{
    write_daemon(status, line);
    write_rows(router, limit, line);
}

void show_metrics(const ShowSources& from, const Request& req, Reply& reply)
{
    if (req.flags & req_json) {
        reply.end(exit_code::usage,
                  "show metrics: Prometheus text only, it has no JSON form (show status -j gives the daemon's "
                  "facts, show -d -j the routes' counters)");
        return;
    }
    if (!from.status) {
        reply.end(exit_code::failed, "show metrics: the daemon's status is not available");
        return;
    }
    StatusSnapshot s = take_snapshot(from.status(), from.router, from.groups);
    write_metrics(s, from.router, from.metrics_limit, [&](std::string_view l) { reply.row(l); });
    reply.end(exit_code::ok, "");
}

} // namespace smcroute
