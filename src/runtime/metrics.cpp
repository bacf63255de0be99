#include "smcroute/runtime/metrics.hpp"

#include "smcroute/base/json.hpp"
#include "smcroute/base/table.hpp"
#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/show.hpp"

#include <optional>
#include <utility>
#include <vector>

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
// A sample's labels: names (literals) and raw values.
using Labels = std::vector<std::pair<std::string_view, std::string>>;

// Where the families go: Prometheus text lines, or JSON rows (one a family).
class Sink {
public:
    virtual ~Sink() = default;
    virtual void begin(std::string_view name, std::string_view type, std::string_view help) = 0;
    virtual void sample(int64_t value, const Labels& labels) = 0;
    virtual void finish() = 0; // the family's last sample was given
};

class TextSink final : public Sink {
public:
    explicit TextSink(const Line& line) : line_(line) {}
    void begin(std::string_view name, std::string_view type, std::string_view help) override
    {
        name_ = name;
        line_(cat("# HELP ", name, " ", help));
        line_(cat("# TYPE ", name, " ", type));
    }
    void sample(int64_t value, const Labels& labels) override
    {
        buf_.assign(name_);
        for (size_t i = 0; i < labels.size(); ++i)
            buf_.append(i ? "," : "{")
                .append(labels[i].first)
                .append("=\"")
                .append(prometheus_label_value(labels[i].second))
                .append("\"");
        if (!labels.empty())
            buf_.append("}");
        buf_.append(" ").append(cat(value));
        line_(buf_);
    }
    void finish() override {}

private:
    const Line& line_;
    std::string_view name_;
    std::string buf_;
};

// {"metrics": [...]}: one element a family, {"name", "type", "help",
// "samples": [{"labels": {...}, "value": N}, ...]}.
class JsonSink final : public Sink {
public:
    explicit JsonSink(const Line& line) : line_(line) { line_(JsonList::open("metrics")); }
    void begin(std::string_view name, std::string_view type, std::string_view help) override
    {
        w_.emplace(list_.next(row_));
        w_->object().member("name", name).member("type", type).member("help", help).key("samples").array();
    }
    void sample(int64_t value, const Labels& labels) override
    {
        w_->object().key("labels").object();
        for (const auto& [k, v] : labels)
            w_->member(k, v);
        w_->end().member("value", value).end();
    }
    void finish() override
    {
        w_->end().end();
        w_.reset();
        line_(row_);
    }
    void close() { line_(JsonList::close()); }

private:
    const Line& line_;
    JsonList list_;
    std::string row_;
    std::optional<JsonWriter> w_;
};

// One metric family: begun when made, finished when it goes.
class Family {
public:
    Family(Sink& sink, std::string_view name, std::string_view type, std::string_view help) : sink_(sink)
    {
        sink_.begin(name, type, help);
    }
    ~Family() { sink_.finish(); }
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;
    template <class N>
    void sample(N value, const Labels& labels = {})
    {
        sink_.sample(static_cast<int64_t>(value), labels);
    }

private:
    Sink& sink_;
};

template <class N>
void single(Sink& line, std::string_view name, std::string_view type, std::string_view help, N value)
{
    Family(line, name, type, help).sample(value);
}

void write_daemon(const StatusSnapshot& s, Sink& line)
{
    const DaemonStatus& d = s.daemon;
    Family(line, "smcroute_build_info", "gauge", "Version of the running smcroute (always 1)")
        .sample(1, Labels{{"version", d.version}});
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
    single(line, "smcroute_proxy_entries", "gauge", "Kernel entries installed by the IGMP/MLD proxy",
           s.routes.proxy);
    single(line, "smcroute_pending_routes", "gauge", "Routes and rules not in the kernel (missing interface)",
           s.routes.pending);
    single(line, "smcroute_max_learned_routes", "gauge", "Limit on learned routes plus stop filters, 0 none",
           d.max_learned);
    {
        Family f(line, "smcroute_vifs_used", "gauge", "Kernel interface slots in use (VIFs, MIFs) per family");
        f.sample(s.routes.vifs_inet, Labels{{"family", "inet"}});
        f.sample(s.routes.mifs_inet6, Labels{{"family", "inet6"}});
    }
    single(line, "smcroute_vifs_max", "gauge", "Kernel interface slots per family", max_vifs);
    if (s.joins_known) {
        Family f(line, "smcroute_joins", "gauge", "Group joins of the daemon by family and state");
        for (size_t i = 0; i < 2; ++i) {
            std::string_view fam = i == 0 ? "inet" : "inet6";
            f.sample(s.joins[i].active, Labels{{"family", std::string(fam)}, {"state", "active"}});
            f.sample(s.joins[i].pending, Labels{{"family", std::string(fam)}, {"state", "pending"}});
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
        Labels labels;
        size_t learned = 0;
        MfcCounters sum;
    };
    struct Route {
        Labels labels;
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
                rows.rules.push_back({Labels{{"iif", spec.iif.str()},
                                             {"source", spec.any_source() ? "*" : spec.source.str()},
                                             {"group", spec.group.str()}},
                                      v.learned, router.learned_totals(spec)});
                return;
            }
            if (rows.routes_seen++ >= limit || !v.active)
                return;
            auto c = router.counters(v.key);
            if (!c)
                return;
            rows.routes.push_back({Labels{{"iif", v.iif},
                                          {"source", v.key.source.str()},
                                          {"group", v.key.group.str()},
                                          {"kind", std::string(route_kind_name(v.kind))}},
                                   *c});
        });
    }
    return rows;
}

// The per-rule families (gauges: an expiring entry takes its share away)
// and the per-route ones (the kernel's counters), one row each.
struct RuleFamily {
    std::string_view name, help;
    uint64_t (*value)(const Rows::Rule&);
};
constexpr RuleFamily rule_families[] = {
    {"smcroute_rule_learned_routes", "Kernel entries learned from a rule",
     [](const Rows::Rule& r) { return uint64_t{r.learned}; }},
    {"smcroute_rule_learned_packets",
     "Packets forwarded by the entries a rule has learned now (their kernel counters summed)",
     [](const Rows::Rule& r) { return r.sum.packets; }},
    {"smcroute_rule_learned_bytes", "Bytes forwarded by the entries a rule has learned now (their kernel counters summed)",
     [](const Rows::Rule& r) { return r.sum.bytes; }},
};
struct RouteFamily {
    std::string_view name, help;
    uint64_t (*value)(const MfcCounters&);
};
constexpr RouteFamily route_families[] = {
    {"smcroute_route_packets_total", "Packets forwarded by a kernel entry",
     [](const MfcCounters& c) { return c.packets; }},
    {"smcroute_route_bytes_total", "Bytes forwarded by a kernel entry", [](const MfcCounters& c) { return c.bytes; }},
    {"smcroute_route_wrong_interface_packets_total",
     "Packets of a kernel entry that arrived on another interface than its inbound one",
     [](const MfcCounters& c) { return c.wrong_if; }},
};

void write_rows(const Router& router, size_t limit, Sink& line)
{
    Rows rows = collect(router, limit);
    single(line, "smcroute_metrics_series_limit", "gauge",
           "Rules and routes given series of their own, each (the first in show routes order)", limit);
    single(line, "smcroute_metrics_rules_omitted", "gauge", "Rules past the series limit, without series",
           router.rule_count() > limit ? router.rule_count() - limit : 0);
    const size_t routes = router.static_count() + router.dynamic_count();
    single(line, "smcroute_metrics_routes_omitted", "gauge", "Routes past the series limit, without series",
           routes > limit ? routes - limit : 0);
    for (const auto& m : rule_families) {
        Family f(line, m.name, "gauge", m.help);
        for (const auto& r : rows.rules)
            f.sample(m.value(r), r.labels);
    }
    for (const auto& m : route_families) {
        Family f(line, m.name, "counter", m.help);
        for (const auto& r : rows.routes)
            f.sample(m.value(r.counters), r.labels);
    }
}

} // namespace

void write_metrics(const StatusSnapshot& status, const Router& router, size_t limit, const Line& line)
{
    TextSink text(line);
    write_daemon(status, text);
    write_rows(router, limit, text);
}

void write_metrics_json(const StatusSnapshot& status, const Router& router, size_t limit, const Line& line)
{
    JsonSink json(line);
    write_daemon(status, json);
    write_rows(router, limit, json);
    json.close();
}

void show_metrics(const ShowSources& from, const Request& req, Reply& reply)
{
    if (!from.status) {
        reply.end(exit_code::failed, "show metrics: the daemon's status is not available");
        return;
    }
    StatusSnapshot s = take_snapshot(from.status(), from.router, from.groups);
    auto row = [&](std::string_view l) { reply.row(l); };
    if (req.flags & req_json)
        write_metrics_json(s, from.router, from.metrics_limit, row);
    else
        write_metrics(s, from.router, from.metrics_limit, row);
    reply.end(exit_code::ok, "");
}

} // namespace smcroute
