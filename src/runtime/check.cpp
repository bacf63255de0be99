#include "smcroute/runtime/check.hpp"

#include "smcroute/base/json.hpp"
#include "smcroute/model/config_judge.hpp"
#include "smcroute/model/diagnose.hpp"
#include "smcroute/model/route_spec.hpp"
#include "smcroute/os/config_files.hpp"
#include "smcroute/os/system_probe.hpp"
#include "smcroute/runtime/client.hpp"
#include "smcroute/runtime/client_session.hpp"
#include "smcroute/runtime/ipc_client.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace smcroute {

namespace {

std::string plural(size_t n, std::string_view word)
{
    return cat(n, ' ', word, n == 1 ? "" : "s");
}

// The daemon answers a version request on its socket (or in its runtime
// directory, where a daemon started with -p USER keeps it).
std::optional<std::string> answering_socket(const Invocation& inv)
{
    constexpr std::chrono::milliseconds timeout{2000};
    std::vector<std::string> paths{inv.client.socket_path.empty() ? default_socket_path(inv.client.ident)
                                                                  : inv.client.socket_path};
    std::string why;
    if (paths.front() == default_socket_path(inv.client.ident))
        if (auto alt = runtime_socket(inv.client.ident, why))
            paths.push_back(*alt);
    for (const auto& path : paths) {
        auto c = IpcClient::connect(path, timeout);
        if (!c)
            continue;
        Request req;
        req.args.emplace_back("version");
        auto end = c->call(req, [](std::string_view) {});
        if (end && end->status == 0)
            return path;
    }
    return std::nullopt;
}

// How a fix starts the daemon for this invocation's ident, config and table.
std::string daemon_command(const Invocation& inv)
{
    const auto& d = inv.daemon;
    const bool ctl = inv.personality != Personality::legacy;
    std::string cmd = ctl ? "smcrouted" : "smcroute -d";
    if (d.ident != "smcroute")
        cmd += cat(ctl ? " -i " : " --ident ", d.ident);
    if (d.config_given)
        cmd += cat(ctl ? " -f " : " --config ", d.config_file);
    if (d.table != 0)
        cmd += cat(ctl ? " -t " : " --table ", d.table);
    return cmd;
}

// What `check` looks at, and what it has found so far.
struct Subject {
    CheckRequest req;
    std::vector<Finding> findings;
    std::string what; // "config FILE: ..." or "route ... from IIF"
};

// The whole config file, judged as the daemon and -F judge it
// (model/config_judge): its errors and warnings become findings, as many
// as the one renderer shows.
void read_config(const Invocation& inv, Subject& s)
{
    const std::string& path = inv.daemon.config_file;
    auto files = make_disk_files();
    ParseResult parsed = judge_config_file(path, *files);
    for (const auto& r : render_diagnostics(parsed.diagnostics)) {
        const Diagnostic* d = r.source;
        if (!d) {
            s.findings.push_back(Finding{r.severity, "config", r.text, {}});
            continue;
        }
        const bool error = d->severity == Severity::error;
        std::string fix;
        if (!d->line)
            fix = cat("create it, or name another file with ",
                      inv.personality == Personality::legacy ? "--config FILE" : "-f FILE");
        else if (error)
            fix = "correct that line (see smcroute.conf(5)); until then -F and a reload refuse the file";
        s.findings.push_back(Finding{d->severity, d->line ? cat(d->file, ':', d->line) : d->file,
                                     cat(error ? "config error: " : "config: ", shown_message(d->message)), fix});
    }
    s.req.config = std::move(parsed.config);
    s.req.whole_config = true;
    s.what = cat("config ", path, ": ", plural(s.req.config.routes.size(), "route"), ", ",
                 plural(s.req.config.joins.size(), "join"), ", ", plural(s.req.config.phyints.size(), "phyint"));
}

// The one route of the command line; its errors, joined, when it has any.
std::optional<std::string> read_route(const ClientCommand& cmd, Subject& s)
{
    RouteText text = split_route_words(cmd.args);
    Checked<RouteSpec> checked = check_route(text);
    if (!checked.value) {
        std::string msg;
        for (const auto& i : checked.issues)
            if (i.severity == Severity::error)
                msg += cat(msg.empty() ? "" : "; ", i.message);
        return msg;
    }
    s.req.config.routes.push_back(Located<RouteSpec>{*checked.value, {}});
    s.req.whole_config = false;
    s.what = cat("route ", checked.value->key_str(), " from ", checked.value->iif.view());
    // The same warnings as the config line would get (model/route_spec,
    // model/config_judge).
    for (const auto& i : checked.issues)
        s.findings.push_back(Finding{i.severity, s.what, shown_message(i.message), {}});
    for (const auto& d : judge_config(s.req.config))
        s.findings.push_back(Finding{d.severity, s.what, shown_message(d.message), {}});
    return std::nullopt;
}

// The system as the subject needs it probed.
Result<SystemFacts> probe(const Invocation& inv, const CheckRequest& req)
{
    ProbeRequest probe;
    probe.table = inv.daemon.table;
    probe.sources = sources_to_look_up(req.config);
    probe.v4 = true; // the kernel's support is reported whatever the config uses
    probe.v6 = true;
    return probe_system(probe);
}

struct Tally {
    size_t problems = 0;
    size_t warnings = 0;
};

// What check always reports, whatever the config: the kernel's support and
// whether a daemon answers.
struct Always {
    bool v4 = false, v6 = false;    // the kernel can route multicast of the family
    std::optional<std::string> socket; // where the daemon answered
    std::string asked;                 // the socket asked first
};

void print_json(const Output& out, const Subject& s, const Always& a, Tally t)
{
    const auto& socket = a.socket;
    put_line(out, "{");
    put_line(out, cat("  \"checked\": ", json_string(s.what), ","));
    put_line(out, cat("  \"kernel\": {\"ipv4\": ", a.v4 ? "true" : "false", ", \"ipv6\": ", a.v6 ? "true" : "false",
                      "},"));
    put_line(out, cat("  \"daemon\": ", socket ? "true" : "false", ","));
    if (socket)
        put_line(out, cat("  \"socket\": ", json_string(*socket), ","));
    put_line(out, cat("  \"problems\": ", t.problems, ","));
    put_line(out, cat("  \"warnings\": ", t.warnings, ","));
    put(out, "  \"findings\": [");
    for (size_t i = 0; i < s.findings.size(); ++i) {
        const auto& f = s.findings[i];
        std::string finding;
        JsonWriter(finding)
            .object()
            .member("severity", f.severity == Severity::error ? "problem" : "warning")
            .member("subject", f.subject)
            .member("message", f.message)
            .member("fix", f.fix)
            .end();
        put(out, cat(i ? ",\n    " : "\n    ", finding));
    }
    put_line(out, s.findings.empty() ? "]" : "\n  ]");
    put_line(out, "}");
}

void print_text(const Output& out, const Subject& s, const Always& a, Tally t)
{
    put_line(out, cat("check: ", s.what));
    put_line(out, cat("check: kernel multicast routing: IPv4 ", a.v4 ? "yes" : "no", ", IPv6 ", a.v6 ? "yes" : "no"));
    if (a.socket)
        put_line(out, cat("check: the daemon answers on ", *a.socket));
    else
        put_line(out, cat("check: no daemon answers on ", a.asked));
    for (const auto& f : s.findings) {
        put_line(out, cat(f.severity == Severity::error ? "problem: " : "warning: ", f.subject, ": ", f.message));
        if (!f.fix.empty())
            put_line(out, cat("  fix: ", f.fix));
    }
    if (t.problems == 0)
        put_line(out, t.warnings == 0 ? std::string("check: no problems found")
                                      : cat("check: no problems found, ", plural(t.warnings, "warning")));
    else
        put_line(out, cat("check: ", plural(t.problems, "problem"), ", ", plural(t.warnings, "warning")));
}

} // namespace

int run_check(const Invocation& inv, const ClientCommand& cmd, std::string_view prefix, const Output& out,
              const Output& err)
{
    Subject s;
    s.req.daemon_command = daemon_command(inv);
    if (cmd.args.empty()) {
        read_config(inv, s);
    } else if (auto bad = read_route(cmd, s)) {
        put_line(err, cat(prefix, "check: ", *bad));
        return exit_code::usage;
    }

    auto facts = probe(inv, s.req);
    if (!facts) {
        put_line(err, cat(prefix, "check: ", facts.error().message));
        return exit_code::os_error;
    }
    Always always{facts->v4.kernel_support, facts->v6.kernel_support, answering_socket(inv),
                  inv.client.socket_path.empty() ? default_socket_path(inv.client.ident) : inv.client.socket_path};
    facts->daemon_answers = always.socket.has_value();
    for (auto& f : diagnose(s.req, *facts))
        s.findings.push_back(std::move(f));

    Tally t;
    for (const auto& f : s.findings)
        ++(f.severity == Severity::error ? t.problems : t.warnings);
    if (inv.client.json)
        print_json(out, s, always, t);
    else
        print_text(out, s, always, t);
    std::fflush(out.file());
    return t.problems == 0 ? exit_code::ok : exit_code::failed;
}

} // namespace smcroute
