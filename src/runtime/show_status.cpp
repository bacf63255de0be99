// `show status`: the daemon's facts and the table's counts (runtime/status),
// as grouped, aligned "key: value" lines or one JSON object.
#include "smcroute/runtime/show.hpp"

#include "smcroute/base/json.hpp"
#include "smcroute/model/commands.hpp"
#include "smcroute/os/mroute.hpp"

#include <algorithm>

namespace smcroute {

namespace {

// Lines of "key: value" under group headings, values in one column.
class KeyValues {
public:
    void group(std::string_view name) { lines_.push_back({std::string(name), "", true}); }
    void add(std::string_view key, std::string value)
    {
        lines_.push_back({cat(key, ":"), std::move(value), false});
        width_ = std::max(width_, lines_.back().key.size());
    }
    template <class Emit>
    void render(Emit emit) const
    {
        std::string line;
        for (const auto& l : lines_) {
            if (l.heading) {
                emit(l.key);
                continue;
            }
            line.assign("  ").append(l.key).append(width_ - l.key.size() + 1, ' ').append(l.value);
            emit(line);
        }
    }

private:
    struct Line {
        std::string key, value;
        bool heading;
    };
    std::vector<Line> lines_;
    size_t width_ = 0;
};

std::string load_text(const ConfigLoad& load)
{
    if (load.outcome == ConfigLoad::Outcome::none)
        return "not loaded yet";
    std::string when = utc_time(load.at_unix);
    switch (load.outcome) {
    case ConfigLoad::Outcome::ok: return cat(when, ", ok");
    case ConfigLoad::Outcome::partial: return cat(when, ", ", load.errors, " error(s): started with the valid lines");
    case ConfigLoad::Outcome::missing: return cat(when, ", no such file: running with no routes");
    case ConfigLoad::Outcome::refused:
        return cat(when, ", refused: ", load.errors, " error(s), the running config stays");
    case ConfigLoad::Outcome::none: break;
    }
    return when;
}

void render_text(const StatusSnapshot& s, Reply& reply)
{
    const DaemonStatus& d = s.daemon;
    KeyValues kv;
    kv.group("daemon");
    kv.add("version", d.version);
    kv.add("pid", cat(d.pid));
    kv.add("started", utc_time(d.started_unix));
    kv.add("uptime", cat(span_text(static_cast<uint64_t>(std::max<int64_t>(d.uptime_seconds, 0))), " (", d.uptime_seconds, " s)"));
    kv.add("identity", d.ident);
    kv.add("table", cat(d.table));
    kv.group("config");
    kv.add("file", d.config_file);
    kv.add("last load", load_text(d.last_load));
    for (const auto& e : d.last_load.first)
        kv.add("error", e);
    if (d.last_load.errors > d.last_load.first.size())
        kv.add("error", cat("(", d.last_load.errors - d.last_load.first.size(), " more)"));
    kv.add("reloads done", cat(d.reloads_done));
    kv.add("reloads refused", cat(d.reloads_refused));
    kv.group("routes");
    kv.add("static routes", cat(s.routes.static_routes));
    kv.add("rules", cat(s.routes.rules));
    kv.add("learned entries", cat(s.routes.learned));
    kv.add("stop filters", cat(s.routes.stop_filters));
    kv.add("proxy entries", cat(s.routes.proxy));
    kv.add("pending routes", cat(s.routes.pending));
    kv.add("max learned", d.max_learned ? cat(d.max_learned) : "no limit");
    kv.add("VIFs used", cat(s.routes.vifs_inet, " of ", max_vifs));
    kv.add("MIFs used", cat(s.routes.mifs_inet6, " of ", max_vifs));
    kv.group("joins");
    if (s.joins_known) {
        kv.add("IPv4", cat(s.joins[0].active, " active, ", s.joins[0].pending, " pending"));
        kv.add("IPv6", cat(s.joins[1].active, " active, ", s.joins[1].pending, " pending"));
    } else {
        kv.add("joins", "not available");
    }
    kv.group("upcalls");
    kv.add("received", cat(s.upcalls.received));
    kv.add("installed from rules", cat(s.upcalls.installed));
    kv.add("kernel drops", cat(s.upcalls.kernel_dropped));
    kv.add("refused (max learned)", cat(s.upcalls.refused));
    kv.group("clients");
    kv.add("served", cat(d.ipc.accepted));
    kv.add("refused", cat(d.ipc.refused));
    kv.add("requests", cat(d.ipc.requests));
    kv.add("connected", cat(d.ipc_clients));
    kv.render([&](std::string_view line) { reply.row(line); });
}

void render_json(const StatusSnapshot& s, Reply& reply)
{
    const DaemonStatus& d = s.daemon;
    std::string out;
    JsonWriter w(out);
    w.object().key("status").object();
    w.member("version", d.version).member("pid", d.pid);
    w.member("started", utc_time(d.started_unix)).member("started_unix", d.started_unix);
    w.member("uptime_seconds", d.uptime_seconds).member("identity", d.ident).member("table", d.table);

    w.key("config").object().member("file", d.config_file).member("result", outcome_name(d.last_load.outcome));
    if (d.last_load.outcome == ConfigLoad::Outcome::none)
        w.key("loaded").null().key("loaded_unix").null();
    else
        w.member("loaded", utc_time(d.last_load.at_unix)).member("loaded_unix", d.last_load.at_unix);
    w.member("errors", d.last_load.errors);
    w.string_array("first_errors", d.last_load.first, [](const std::string& e) { return std::string_view(e); });
    w.end();

    w.key("reloads").object().member("done", d.reloads_done).member("refused", d.reloads_refused).end();

    w.key("routes").object().member("static", s.routes.static_routes).member("rules", s.routes.rules);
    w.member("learned", s.routes.learned).member("stop_filters", s.routes.stop_filters).member("proxy", s.routes.proxy);
    w.member("pending", s.routes.pending).member("max_learned", d.max_learned).end();

    w.key("vifs").object().member("inet", s.routes.vifs_inet).member("inet6", s.routes.mifs_inet6);
    w.member("max", max_vifs).end();

    w.key("joins");
    if (s.joins_known) {
        w.object();
        for (size_t f = 0; f < 2; ++f)
            w.key(f == 0 ? "inet" : "inet6").object().member("active", s.joins[f].active)
                .member("pending", s.joins[f].pending).end();
        w.end();
    } else {
        w.null();
    }

    w.key("upcalls").object().member("received", s.upcalls.received);
    w.member("installed_from_rules", s.upcalls.installed).member("kernel_dropped", s.upcalls.kernel_dropped);
    w.member("refused_max_learned", s.upcalls.refused).end();

    w.key("clients").object().member("served", d.ipc.accepted).member("refused", d.ipc.refused);
    w.member("requests", d.ipc.requests).member("connected", d.ipc_clients).end();
    w.end().end();
    reply.row(out);
}

} // namespace

void show_status(const ShowSources& from, const Request& req, Reply& reply)
{
    if (!from.status) {
        reply.end(exit_code::failed, "show status: the daemon's status is not available");
        return;
    }
    StatusSnapshot s = take_snapshot(from.status(), from.router, from.groups);
    if (req.flags & req_json)
        render_json(s, reply);
    else
        render_text(s, reply);
    reply.end(exit_code::ok, "");
}

} // namespace smcroute
