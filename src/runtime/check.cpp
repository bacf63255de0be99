#include "smcroute/runtime/check.hpp"

#include "smcroute/base/json.hpp"
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

// The whole config file; its errors become findings.
void read_config(const Invocation& inv, Subject& s)
{
    const std::string& path = inv.daemon.config_file;
    auto files = make_disk_files();
    ParseResult parsed = parse_config_file(path, *files);
    for (const auto& d : parsed.diagnostics) {
        if (d.severity != Severity::error)
            continue; // the parser's warnings are findings of diagnose(), with their fixes
        s.findings.push_back(Finding{
            Severity::error, d.line ? cat(d.file, ':', d.line) : d.file, cat("config error: ", d.message),
            d.line ? std::string("correct that line (see smcroute.conf(5)); until then the daemon refuses the file")
                   : cat("create it, or name another file with ",
                         inv.personality == Personality::legacy ? "--config FILE" : "-f FILE")});
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
    Checked<RouteSpec> checked = check_route(text, false);
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
    return std::nullopt;
}

// The system as the subject needs it probed.
Result<SystemFacts> probe(const Invocation& inv, const CheckRequest& req)
{
    ProbeRequest probe;
    probe.table = inv.daemon.table;
    probe.sources = sources_to_look_up(req.config);
    probe.v4 = uses_family(req.config, Family::inet);
    probe.v6 = uses_family(req.config, Family::inet6);
    return probe_system(probe);
}

struct Tally {
    size_t problems = 0;
    size_t warnings = 0;
};

void print_json(const Output& out, const Subject& s, const std::optional<std::string>& socket, Tally t)
{
    put_line(out, "{");
    put_line(out, cat("  \"checked\": ", json_string(s.what), ","));
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

void print_text(const Output& out, const Subject& s, const std::optional<std::string>& socket, Tally t)
{
    put_line(out, cat("check: ", s.what));
    if (socket)
        put_line(out, cat("check: the daemon answers on ", *socket));
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
    auto socket = answering_socket(inv);
    facts->daemon_answers = socket.has_value();
    for (auto& f : diagnose(s.req, *facts))
        s.findings.push_back(std::move(f));

    Tally t;
    for (const auto& f : s.findings)
        ++(f.severity == Severity::error ? t.problems : t.warnings);
    if (inv.client.json)
        print_json(out, s, socket, t);
    else
        print_text(out, s, socket, t);
    std::fflush(out.file());
    return t.problems == 0 ? exit_code::ok : exit_code::failed;
}

} // namespace smcroute
