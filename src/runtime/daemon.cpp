#include "smcroute/runtime/daemon.hpp"

#include "smcroute/model/config.hpp"
#include "smcroute/model/config_judge.hpp"
#include "smcroute/model/plan.hpp"
#include "smcroute/model/plan_render.hpp"
#include "smcroute/os/config_files.hpp"
#include "smcroute/os/daemonize.hpp"
#include "smcroute/os/interfaces.hpp"
#include "smcroute/os/membership.hpp"
#include "smcroute/os/memory.hpp"
#include "smcroute/os/notify.hpp"
#include "smcroute/os/privileges.hpp"
#include "smcroute/os/runtime_files.hpp"
#include "smcroute/os/signals.hpp"
#include "smcroute/runtime/burst_release.hpp"
#include "smcroute/runtime/control.hpp"
#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/runtime/groups.hpp"
#include "smcroute/runtime/ipc_server.hpp"
#include "smcroute/runtime/metrics.hpp"
#include "smcroute/runtime/mrdisc.hpp"
#include "smcroute/runtime/proxy.hpp"
#include "smcroute/runtime/proxy_io.hpp"
#include "smcroute/runtime/events.hpp"
#include "smcroute/runtime/reload.hpp"
#include "smcroute/runtime/router.hpp"
#include "smcroute/runtime/script.hpp"
#include "smcroute/runtime/status.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smcroute {

namespace {

std::string diagnostics_text(const ParseResult& parsed)
{
    std::string text;
    for (const auto& r : render_diagnostics(parsed.diagnostics)) {
        text += r.text;
        text += '\n';
    }
    return text;
}

// Reply that collects the outcome of a start-up command.
class CollectReply final : public Reply {
public:
    void row(std::string_view) override {}
    void end(uint32_t s, std::string_view m) override
    {
        status = s;
        message = m;
    }
    uint32_t status = 0;
    std::string message;
};

class Daemon {
public:
    // RUNTIME_DIR: the runtime directory (-p USER), which a failed start
    // removes if it made it.
    Daemon(const DaemonOptions& opts, Logger& log, std::optional<RuntimeDir> runtime_dir)
        : opts_(opts), log_(log), stray_log_(log), notifier_(SystemdNotifier::from_env()),
          script_(loop_, log_, opts.script), runtime_dir_(std::move(runtime_dir)), started_(loop_.now()),
          started_unix_(wall_clock_seconds())
    {
    }
    // Returns the exit status.
    int run(const std::vector<ClientCommand>& startup, ReadyPipe& ready);

private:
    // Errors with code EINTR when a stop signal came meanwhile (exit_pending).
    // A dry run logs nothing and changes nothing of the daemon's.
    enum class Load { start, reload, dry_run };
    Result<Config> load_config(Load why);
    Status reload();
    // reload --dry-run: the reload's plan, rendered, not applied.
    Control::Hooks::DryRun dry_run(bool json);
    // The running config's routes, joins and phyints changed into next's,
    // only where they differ (model/plan, applied by runtime/reload).
    // Counts of what it did go into `applied` (a reload_applied event).
    Status change_to(Config& next, Event* applied = nullptr);
    void publish_refused(const Error& error);
    // SIGTERM, SIGINT or SIGQUIT waits in the signalfd: loading or applying
    // a big config gives up, so the loop reads it and the daemon exits
    // promptly. Asked every plan_check_every routes.
    bool exit_pending() const { return EventLoop::signal_pending(stop_signals_); }
    void drain_upcalls(MrouteSocket& s);
    void read_links();
    // Router discovery on the interfaces a running phyint marks mrdisc.
    void update_mrdisc();
    // The IGMP/MLD proxy as the running phyints say (by difference).
    void update_proxy();
    // show status and show metrics: the daemon's facts now (runtime/status).
    DaemonStatus status() const;
    static int64_t wall_clock_seconds();
    // The last config load's outcome, for status.
    void note_load(ConfigLoad::Outcome outcome, const ParseResult* parsed);
    // --metrics-file: opened (checked) before -p drops root, then written
    // every --metrics-interval; a failure after the start is logged, rate-limited.
    int open_metrics_file(ReadyPipe& ready);
    void write_metrics_file();
    int fail_start(ReadyPipe& ready, int status, const std::string& message);
    // A start that ends before ready leaves nothing it made: the socket, the
    // pid file, the runtime directory if this start created it. Before the
    // starting terminal hears of the end, so that it finds nothing.
    void undo_start();

    // run(), step by step.
    Status catch_signals();
    int open_ipc_server(ReadyPipe& ready);
    void handle_signals();
    void clean_up_at_exit();

    // Open the routing sockets, learn the interfaces, apply the config and
    // report ready; 0 or the exit status of the failure.
    int start_routing(Config cfg, const std::vector<ClientCommand>& startup, ReadyPipe& ready);
    // start_routing(), pass by pass; the int ones return 0 or the exit status.
    int open_routing_sockets(ReadyPipe& ready);
    void make_routing_engine();
    void watch_upcalls();
    int watch_links(ReadyPipe& ready);
    size_t apply_startup_config(Config cfg); // returns its number of route lines
    void start_mrdisc();
    std::string run_startup_commands(const std::vector<ClientCommand>& startup); // their failures
    void start_timers();
    // After a burst of table changes (a thousand groups joined, a flood of
    // upcalls) give the heap's free pages back once a tick saw no change,
    // as a reload does: the burst's peak is not kept for the daemon's life.
    void release_after_burst();
    int write_pid_file(ReadyPipe& ready);
    int drop_root(ReadyPipe& ready);
    void report_ready(ReadyPipe& ready, const std::string& failures, size_t routes);

    const DaemonOptions& opts_;
    Logger& log_;
    StraySignalLog stray_log_;
    std::vector<int> stop_signals_ = stop_signals();
    EventLoop loop_;
    std::unique_ptr<Mrdisc> mrdisc_; // terminations go out before loop_ ends
    std::unique_ptr<MrouteSocket> v4_, v6_;
    EventBus events_; // outlives the router, the request handler and the IPC server, which publish or subscribe
    std::unique_ptr<Router> router_;
    MembershipPool pool_; // before groups_, which leaves through it
    std::unique_ptr<GroupManager> groups_;
    GroupSockets proxy_io_{loop_, log_};
    MembershipPool proxy_pool_; // the proxy's upstream joins, apart from the config's
    std::unique_ptr<Proxy> proxy_; // before the router and its sockets go
    std::unique_ptr<Control> control_;
    std::unique_ptr<IpcServer> server_;
    std::optional<PidFile> pid_file_; // once written
    std::optional<LinkMonitor> links_;
    Config running_; // its phyints and joins: routes live only in the router
    size_t config_errors_ = 0; // of the running config: lines left out at a lenient start
    SystemdNotifier notifier_;
    ActionScript script_; // after loop_, which it registers with
    std::optional<RuntimeDir> runtime_dir_;
    // For status.
    Clock::time_point started_;
    int64_t started_unix_ = 0;
    ConfigLoad last_load_;
    uint64_t reloads_done_ = 0, reloads_refused_ = 0;
    BurstRelease burst_; // release_after_burst
    std::optional<ReplacedFile> metrics_file_;
    std::optional<Clock::time_point> metrics_error_logged_; // failing since then; nullopt: last write fine
};

// Between two log lines about a metrics file that still cannot be written.
constexpr auto metrics_error_log_period = std::chrono::minutes(10);

int64_t Daemon::wall_clock_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

DaemonStatus Daemon::status() const
{
    DaemonStatus s;
    s.version = SMCROUTE_VERSION;
    s.pid = ::getpid();
    s.started_unix = started_unix_;
    s.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(loop_.now() - started_).count();
    s.ident = opts_.ident;
    s.table = opts_.table;
    s.config_file = opts_.config_file;
    s.last_load = last_load_;
    s.reloads_done = reloads_done_;
    s.reloads_refused = reloads_refused_;
    if (server_) {
        s.ipc = server_->stats();
        s.ipc_clients = server_->client_count();
    }
    s.max_learned = opts_.max_learned;
    return s;
}

void Daemon::note_load(ConfigLoad::Outcome outcome, const ParseResult* parsed)
{
    ConfigLoad load;
    load.outcome = outcome;
    load.at_unix = wall_clock_seconds();
    if (parsed) {
        load.errors = parsed->error_count();
        for (const auto& r : render_diagnostics(parsed->diagnostics))
            if (r.severity == Severity::error)
                load.note_error(r.text);
    }
    last_load_ = std::move(load);
}

int Daemon::open_metrics_file(ReadyPipe& ready)
{
    if (opts_.metrics_file.empty())
        return exit_code::ok;
    auto file = ReplacedFile::open(opts_.metrics_file);
    if (!file) {
        if (file.error().code == 0) // refused for safety, like the pid file
            return fail_start(ready, exit_code::permission, file.error().message);
        log_.warning(cat(file.error().message, "; no metrics file"));
        return exit_code::ok;
    }
    metrics_file_ = std::move(*file);
    return exit_code::ok;
}

void Daemon::write_metrics_file()
{
    if (!metrics_file_ || !router_)
        return;
    std::string text;
    StatusSnapshot snap = take_snapshot(status(), *router_, groups_.get());
    write_metrics(snap, *router_, metrics_series_limit, [&](std::string_view line) {
        text.append(line);
        text += '\n';
    });
    Status written = metrics_file_->write(text);
    const auto now = loop_.now();
    if (written) {
        if (metrics_error_logged_)
            log_.notice(cat("metrics file ", metrics_file_->path(), " written again"));
        metrics_error_logged_.reset();
        return;
    }
    if (metrics_error_logged_ && now - *metrics_error_logged_ < metrics_error_log_period)
        return;
    log_.warning(cat(written.error().message, " (metrics file; retried every ", opts_.metrics_interval,
                     " s, logged at most every 10 minutes)"));
    metrics_error_logged_ = now;
}

int Daemon::fail_start(ReadyPipe& ready, int status, const std::string& message)
{
    if (status == exit_code::config) // diagnostics carry their own "error:"
        log_.log_plain(LogLevel::err, message);
    else
        log_.error(message);
    undo_start();
    ready.report(status, message);
    return status;
}

void Daemon::undo_start()
{
    server_.reset(); // removes the socket's node
    if (pid_file_)
        if (auto st = pid_file_->remove(); !st)
            log_.info(cat(st.error().message, "; left behind"));
    pid_file_.reset();
    if (runtime_dir_)
        if (auto st = runtime_dir_->remove_if_made(); !st)
            log_.info(cat(st.error().message, "; left behind"));
}

Result<Config> Daemon::load_config(Load why)
{
    const bool at_start = why == Load::start;
    const bool dry_run = why == Load::dry_run;
    auto files = make_disk_files();
    struct stat st{};
    const bool refuse_missing = at_start && opts_.strict_config && opts_.config_given;
    if (!refuse_missing && ::stat(opts_.config_file.c_str(), &st) != 0 && errno == ENOENT) {
        // As in SMCRoute 2.x: no file, no routes; a later reload reads it.
        // Only --strict-config refuses a missing -f FILE at start.
        std::string what = cat("no config file ", opts_.config_file, ", ", at_start ? "starting" : "running",
                               " with no routes");
        if (dry_run)
            return Config{};
        if (opts_.config_given)
            log_.warning(what);
        else
            log_.info(what);
        config_errors_ = 0;
        note_load(ConfigLoad::Outcome::missing, nullptr);
        return Config{};
    }
    ParseOptions popts;
    popts.interrupted = [this] { return exit_pending(); };
    ParseResult parsed = judge_config_file(opts_.config_file, *files, popts);
    if (parsed.interrupted)
        return Error{EINTR, cat(opts_.config_file, ": ", at_start ? "start-up" : dry_run ? "dry run" : "reload",
                                " abandoned: asked to exit", at_start ? "" : ", keeping the running config")};
    size_t errors = parsed.error_count();
    const bool lenient = at_start && !opts_.strict_config;
    // Each diagnostic is printed once: here when the config is used anyway
    // (render_diagnostics bounds how many), else by the caller, in the
    // error that refuses it.
    if (dry_run) {
        if (errors == 0)
            return std::move(parsed.config);
        return fail(cat(diagnostics_text(parsed), opts_.config_file, ": ", errors,
                        " error(s), a reload would be refused"));
    }
    if (errors == 0 || lenient)
        for (const auto& r : render_diagnostics(parsed.diagnostics))
            log_.log_plain(r.severity == Severity::error ? LogLevel::err : LogLevel::warning, r.text);
    if (errors == 0) {
        config_errors_ = 0;
        note_load(ConfigLoad::Outcome::ok, &parsed);
        return std::move(parsed.config);
    }
    note_load(lenient ? ConfigLoad::Outcome::partial : ConfigLoad::Outcome::refused, &parsed);
    if (lenient) {
        config_errors_ = errors;
        log_.warning(cat(opts_.config_file, ": ", errors,
                         " error(s); starting with the valid lines ('smcrouted -F ", opts_.config_file,
                         "' lists every error; --strict-config refuses instead)"));
        return std::move(parsed.config);
    }
    return fail(cat(diagnostics_text(parsed), opts_.config_file, ": ", errors, " error(s)",
                    at_start ? "" : ", keeping the running config"));
}

Status Daemon::reload()
{
    log_.notice(cat("reloading ", opts_.config_file));
    notifier_.reloading(cat("reloading ", opts_.config_file));
    auto cfg = load_config(Load::reload);
    if (!cfg) {
        if (cfg.error().code != EINTR)
            ++reloads_refused_;
        notifier_.ready("reload failed, running the old config");
        publish_refused(cfg.error());
        return cfg.take_error();
    }
    Event applied{EventKind::reload_applied, {}};
    if (auto st = change_to(*cfg, &applied); !st) {
        publish_refused(st.error());
        return st;
    }
    if (events_.wanted())
        events_.publish(applied);
    running_ = std::move(*cfg);
    // The parser's and the plan's buffers are free now: give the pages
    // back rather than keep the reload's peak for the daemon's life.
    release_free_memory();
    update_mrdisc();
    update_proxy();
    ++reloads_done_;
    notifier_.ready("reloaded");
    log_.notice("reload done");
    script_.run("reload");
    return {};
}

Control::Hooks::DryRun Daemon::dry_run(bool json)
{
    Control::Hooks::DryRun answer;
    auto cfg = load_config(Load::dry_run);
    if (!cfg) {
        answer.status = cfg.error().code == EINTR ? exit_code::failed : exit_code::config;
        answer.message = cfg.error().message;
        return answer;
    }
    const std::function<bool()> asked = [this] { return exit_pending(); };
    GiveUp give_up(asked);
    auto running = running_state(*router_, running_.joins, give_up);
    auto planned = running ? plan_reload(*running, *cfg, asked) : Result<ReloadPlan>(Error{EINTR, ""});
    if (!planned) {
        answer.status = exit_code::failed;
        answer.message = cat(opts_.config_file, ": dry run abandoned: asked to exit");
        return answer;
    }
    PlanPreview preview{*running, *planned, router_->keys_of(Origin::client), {}};
    for (auto& r : preview.client_routes)
        if (auto found = router_->find(r))
            r.oifs = std::move(found->oifs);
    groups_->for_each_join([&](const JoinView& v) {
        if (v.origin == Origin::client)
            preview.client_joins.push_back(*v.spec);
    });
    answer.rows = json ? render_preview_json(preview) : render_preview_text(preview);
    return answer;
}

// Only the difference is applied, in linear time: unchanged routes and
// joins are not touched in the kernel; a route whose OIFs changed is
// re-programmed in place (its traffic never stops). The router's own table
// is the running side. A stop signal meanwhile abandons the reload: while
// planning, with nothing changed; while applying, part-way (the daemon
// exits next anyway).
void Daemon::publish_refused(const Error& error)
{
    if (!events_.wanted())
        return;
    // The first error: diagnostics come as "file:line:col: error: ..."
    // lines, each followed by the line quoted and a caret.
    std::string_view text = error.message;
    std::string_view first = text.substr(0, text.find('\n'));
    for (size_t at = 0; at < text.size();) {
        size_t nl = text.find('\n', at);
        std::string_view line = text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
        if (line.find("error: ") != std::string_view::npos) {
            first = line;
            break;
        }
        at = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    events_.publish(Event{EventKind::reload_refused, {}}
                        .add("config", opts_.config_file)
                        .add("error", std::string(first)));
}

Status Daemon::change_to(Config& next, Event* applied)
{
    auto abandoned = [this](bool part_way) {
        return Error{EINTR, cat(opts_.config_file, ": reload abandoned: asked to exit",
                                part_way ? " (part-way)" : ", keeping the running config")};
    };
    const std::function<bool()> asked = [this] { return exit_pending(); };
    ReloadPlan plan;
    {
        GiveUp give_up(asked);
        auto running = running_state(*router_, running_.joins, give_up);
        if (!running)
            return abandoned(false);
        auto planned = plan_reload(*running, next, asked);
        if (!planned)
            return abandoned(false);
        plan = std::move(*planned);
    }
    if (exit_pending())
        return abandoned(false);
    if (!apply_plan(plan, *router_, *groups_, log_, asked))
        return abandoned(true);
    if (applied)
        applied->add("config", opts_.config_file)
            .add("routes_added", uint64_t{plan.add_routes.size()})
            .add("routes_removed", uint64_t{plan.remove_routes.size()})
            .add("routes_changed", uint64_t{plan.replace_oifs.size()})
            .add("joins_added", uint64_t{plan.join.size()})
            .add("joins_removed", uint64_t{plan.leave.size()})
            .add("phyints_changed", uint64_t{plan.phyints ? 1u : 0u});
    return {};
}

// start_routing's passes ---------------------------------------------------------

int Daemon::open_routing_sockets(ReadyPipe& ready)
{
    bool no_support = true;
    std::string why; // each family's reason, for the final error
    bool denied = true;
    for (Family f : {Family::inet, Family::inet6}) {
        auto s = open_mroute(f, opts_.table);
        if (!s) {
            int code = s.error().code;
            if (code == EADDRINUSE)
                return fail_start(ready, exit_code::unavailable, s.error().message);
            if (code != ENOPROTOOPT && code != EOPNOTSUPP && code != EAFNOSUPPORT && code != EPROTONOSUPPORT)
                no_support = false;
            if (code != EPERM && code != EACCES)
                denied = false;
            log_.warning(cat(s.error().message, "; ", family_name(f), " routes will be refused"));
            why += cat(why.empty() ? "" : "; ", family_name(f), ": ", s.error().message);
            continue;
        }
        no_support = false;
        (f == Family::inet ? v4_ : v6_) = std::move(*s);
    }
    if (v4_ || v6_)
        return exit_code::ok;
    if (no_support)
        return fail_start(ready, exit_code::no_kernel_support,
                          cat("no multicast routing socket could be opened (", why,
                              "): this kernel cannot route multicast; it needs CONFIG_IP_MROUTE and "
                              "CONFIG_IPV6_MROUTE (README, \"No multicast routing in this kernel\", "
                              "shows how to try smcroute in a VM)"));
    return fail_start(ready, denied ? exit_code::permission : exit_code::os_error,
                      cat("no multicast routing socket could be opened (", why, ")"));
}

// The router, the group manager and the request handler over them.
void Daemon::make_routing_engine()
{
    router_ = std::make_unique<Router>(log_, v4_.get(), v6_.get(), &loop_.clock());
    router_->set_max_learned(opts_.max_learned);
    router_->set_only_enabled(opts_.only_enabled);
    router_->set_events(&events_);
    router_->on_learned([this](const SgKey& k, std::string_view iif) {
        if (!script_.enabled()) // the environment is not built for nothing
            return;
        script_.run("install", {{"source", k.source.str()}, {"group", k.group.str()}, {"iif", std::string(iif)}});
    });
    groups_ = std::make_unique<GroupManager>(log_, pool_);
    proxy_ = std::make_unique<Proxy>(loop_, log_, *router_, proxy_pool_, proxy_io_);
    proxy_->set_events(&events_);
    proxy_io_.set_proxy(proxy_.get());
    Control::Hooks hooks{
        [this] { loop_.after(std::chrono::milliseconds(0), [this] { loop_.stop(); }); },
        [this] { return reload(); },
        [] { return cat("smcroute ", SMCROUTE_VERSION); },
        [this](bool json) { return dry_run(json); },
        [this] { return &running_; },
        [this] { return status(); },
    };
    control_ = std::make_unique<Control>(*router_, log_, std::move(hooks), groups_.get());
    control_->set_proxy(proxy_.get());
    control_->set_events(&events_);
    if (auto n = raise_nofile_limit(); !n)
        log_.warning(n.error().message);
}

void Daemon::watch_upcalls()
{
    for (MrouteSocket* s : {v4_.get(), v6_.get()})
        if (s && s->fd() >= 0)
            loop_.watch(s->fd(), POLLIN, [this, s](short) { drain_upcalls(*s); });
}

// The link monitor first, then the list: no change falls between them.
int Daemon::watch_links(ReadyPipe& ready)
{
    auto monitor = LinkMonitor::open();
    if (!monitor)
        return fail_start(ready, exit_code::os_error, monitor.error().message);
    links_ = std::move(*monitor);
    loop_.watch(links_->fd(), POLLIN, [this](short) { read_links(); });
    auto list = list_interfaces();
    if (!list)
        return fail_start(ready, exit_code::os_error, list.error().message);
    router_->set_interfaces(*list);
    groups_->set_interfaces(router_->interfaces());
    return exit_code::ok;
}

size_t Daemon::apply_startup_config(Config cfg)
{
    running_ = std::move(cfg);
    std::vector<PhyintSpec> phyints;
    for (const auto& p : running_.phyints)
        phyints.push_back(p.spec);
    router_->set_phyints(phyints);
    update_proxy();
    if (!add_routes_and_joins(running_.routes, running_.joins, *router_, *groups_, log_,
                              GiveUp([this] { return exit_pending(); })))
        log_.notice("asked to exit while adding the config's routes: stopped adding them");
    size_t routes = running_.routes.size();
    // Routes live only in the router; the parser's buffers (file text,
    // located routes) are free now: give the pages back rather than keep
    // the load's peak for the daemon's life.
    std::vector<Located<RouteSpec>>().swap(running_.routes);
    release_free_memory();
    return routes;
}

void Daemon::start_mrdisc()
{
    mrdisc_ = std::make_unique<Mrdisc>(loop_, log_, std::chrono::seconds(opts_.mrdisc_interval));
    update_mrdisc();
}

// Legacy `smcroute -d -a ...`: run the commands as root would.
std::string Daemon::run_startup_commands(const std::vector<ClientCommand>& startup)
{
    std::string failures;
    for (const auto& cmd : startup) {
        Request req;
        req.args.push_back(std::string(verb_info(cmd.verb).name));
        req.args.insert(req.args.end(), cmd.args.begin(), cmd.args.end());
        CollectReply reply;
        control_->handle(req, Peer{getpid(), 0, 0, true}, reply);
        if (reply.status != 0)
            failures += cat(cmd.label.empty() ? req.args[0] : cmd.label, ": ", reply.message, "\n");
    }
    return failures;
}

void Daemon::start_timers()
{
    if (opts_.cache_timeout > 0) {
        router_->set_expiry_interval(std::chrono::seconds(opts_.cache_timeout));
        loop_.every(std::chrono::seconds(opts_.cache_timeout), [this] { router_->expire_idle(); });
    }
    // Refused or dropped upcalls that no later upcall reported; the heap
    // after a burst.
    loop_.every(std::chrono::seconds(10), [this] {
        router_->report_upcall_losses();
        release_after_burst();
    });
}

void Daemon::release_after_burst()
{
    if (burst_.tick(router_->version()))
        release_free_memory();
}

// Replaced, never truncated or followed (os/runtime_files). A path refused
// for safety stops the start; a pid file that merely cannot be written (no
// permission, no directory) is a warning, as it always was.
int Daemon::write_pid_file(ReadyPipe& ready)
{
    auto pid_file = PidFile::open(opts_.pid_file);
    Status written = pid_file ? pid_file->write(getpid()) : Status(pid_file.error());
    if (written)
        pid_file_ = std::move(*pid_file);
    else if (written.error().code == 0)
        return fail_start(ready, exit_code::permission, written.error().message);
    else
        log_.warning(written.error().message);
    return exit_code::ok;
}

int Daemon::drop_root(ReadyPipe& ready)
{
    if (!opts_.user.empty())
        if (auto st = drop_privileges(opts_.user, log_); !st)
            return fail_start(ready, exit_code::permission, st.error().message);
    return exit_code::ok;
}

void Daemon::report_ready(ReadyPipe& ready, const std::string& failures, size_t routes)
{
    log_.notice(cat("smcroute ", SMCROUTE_VERSION, " ready, socket ", opts_.socket_path,
                    opts_.table ? cat(", table ", opts_.table) : ""));
    ready.report(failures.empty() ? 0 : exit_code::failed, failures);
    notifier_.ready(cat("ready, ", routes, " route(s) from ", opts_.config_file,
                        config_errors_ ? cat(", ", config_errors_, " config error(s): lines left out, see the log")
                                       : ""));
    script_.run("reload");
}

int Daemon::start_routing(Config cfg, const std::vector<ClientCommand>& startup, ReadyPipe& ready)
{
    if (int st = open_routing_sockets(ready); st != exit_code::ok)
        return st;
    make_routing_engine();
    watch_upcalls();
    if (int st = watch_links(ready); st != exit_code::ok)
        return st;
    size_t routes = apply_startup_config(std::move(cfg));
    start_mrdisc();
    std::string failures = run_startup_commands(startup);
    start_timers();
    if (int st = write_pid_file(ready); st != exit_code::ok)
        return st;
    if (int st = open_metrics_file(ready); st != exit_code::ok)
        return st;
    if (int st = drop_root(ready); st != exit_code::ok)
        return st;
    write_metrics_file(); // the first at once
    if (metrics_file_)
        loop_.every(std::chrono::seconds(opts_.metrics_interval), [this] { write_metrics_file(); });
    report_ready(ready, failures, routes);
    return exit_code::ok;
}

// Events ------------------------------------------------------------------------

void Daemon::drain_upcalls(MrouteSocket& s)
{
    // One bounded batch per wake-up: the kernel's socket queue (bounded by
    // its receive buffer, overflow counted) holds the rest, so a flood
    // never grows memory here and never starves the IPC socket.
    auto ups = s.read_upcalls();
    for (const auto& u : ups)
        router_->handle_upcall(s.family(), u);
    if (s.upcall_stats().dropped != 0)
        router_->report_upcall_losses();
}

void Daemon::update_mrdisc()
{
    if (!mrdisc_)
        return;
    std::vector<Interface> on;
    for (const auto& [index, ifc] : router_->interfaces())
        for (const auto& p : running_.phyints)
            if (p.spec.mrdisc && p.spec.name.matches(ifc.name.view())) {
                on.push_back(ifc);
                break;
            }
    mrdisc_->set_interfaces(on);
}

void Daemon::update_proxy()
{
    std::vector<PhyintSpec> phyints;
    for (const auto& p : running_.phyints)
        phyints.push_back(p.spec);
    proxy_->configure(phyints);
}

void Daemon::read_links()
{
    bool overflowed = false;
    auto events = links_->read(overflowed);
    if (overflowed) {
        if (auto list = list_interfaces()) {
            router_->set_interfaces(*list);
            groups_->set_interfaces(router_->interfaces());
            update_mrdisc();
            proxy_->refresh();
        }
        return;
    }
    for (const auto& ev : events)
        router_->link_event(ev);
    if (!events.empty()) { // the router's view is the one truth about interfaces
        groups_->set_interfaces(router_->interfaces());
        update_mrdisc();
    }
    // Address changes wake the monitor without events: the proxy's queriers
    // speak from their interface's address.
    proxy_->refresh();
}

// run()'s steps --------------------------------------------------------------------

// Every signal whose default would end or stop the daemon is caught: the
// stop signals and SIGHUP act, the stray ones are logged and ignored,
// SIGPIPE is ignored (writes say EPIPE). Fault signals keep their default.
// Children (-e) start with every default back.
Status Daemon::catch_signals()
{
    ::signal(SIGPIPE, SIG_IGN);
    if (auto st = ignore_reserved_signals(); !st)
        log_.warning(st.error().message);
    std::vector<int> caught = stop_signals_;
    caught.push_back(SIGHUP);
    const std::vector<int> stray = stray_signals();
    caught.insert(caught.end(), stray.begin(), stray.end());
    if (auto st = loop_.init_signals(caught); !st)
        return st;
    for (int signo : stray)
        loop_.on_signal(signo, [this](const SignalInfo& s) { stray_log_.note(s.signo, s.pid, s.uid); });
    return {};
}

// The IPC socket first: a live daemon on it is the clearest reason to stop.
int Daemon::open_ipc_server(ReadyPipe& ready)
{
    IpcLimits access;
    access.mode = static_cast<mode_t>(opts_.socket_mode);
    if (!opts_.socket_group.empty()) {
        auto gid = lookup_group(opts_.socket_group);
        if (!gid)
            return fail_start(ready, exit_code::usage, gid.error().message);
        access.group = *gid;
    }
    auto server = IpcServer::listen(loop_, log_, opts_.socket_path, [this](const Request& req, const Peer& peer,
                                                                           Reply& reply) {
        if (!control_) { // still in the start-up delay (-d SEC)
            reply.end(exit_code::unavailable, "the daemon is starting (start-up delay), try again shortly");
            return;
        }
        control_->handle(req, peer, reply);
    }, access);
    if (!server)
        return fail_start(ready, exit_code::unavailable, server.error().message);
    server_ = std::move(*server);
    return exit_code::ok;
}

void Daemon::handle_signals()
{
    loop_.on_signal(SIGTERM, [this] { loop_.stop(); });
    loop_.on_signal(SIGINT, [this] { loop_.stop(); });
    loop_.on_signal(SIGQUIT, [this] { loop_.stop(); });
    loop_.on_signal(SIGHUP, [this] {
        if (!router_) {
            log_.notice("reload ignored: still starting");
            return;
        }
        if (auto st = reload(); !st)
            log_.log_plain(st.error().code == EINTR ? LogLevel::notice : LogLevel::err, st.error().message);
    });
}

void Daemon::clean_up_at_exit()
{
    notifier_.stopping("exiting, removing routes");
    log_.notice("exiting, removing routes");
    mrdisc_.reset(); // terminations while the interfaces are still there
    proxy_io_.set_proxy(nullptr);
    proxy_.reset(); // upstream leaves, proxy rules out of the router
    proxy_pool_.clear();
    if (groups_)
        groups_->clear();
    if (router_)
        router_->clear();
    server_.reset();
    // After -p the files are root's, in root's directory: they stay, and the
    // next start replaces them (a stale socket is one nobody answers on).
    if (pid_file_)
        if (auto st = pid_file_->remove(); !st)
            log_.info(cat(st.error().message, "; left behind, the next start replaces it"));
}

int Daemon::run(const std::vector<ClientCommand>& startup, ReadyPipe& ready)
{
    if (auto st = catch_signals(); !st)
        return fail_start(ready, exit_code::os_error, st.error().message);
    auto cfg = load_config(Load::start);
    if (!cfg && cfg.error().code == EINTR) { // a stop signal during a long load
        log_.notice(cfg.error().message);
        undo_start();
        ready.report(exit_code::ok, cfg.error().message);
        return exit_code::ok;
    }
    if (!cfg)
        return fail_start(ready, exit_code::config, cfg.error().message);
    if (int st = open_ipc_server(ready); st != exit_code::ok)
        return st;
    handle_signals();

    // With -d SEC clients are told "starting" until routing begins.
    int start_status = exit_code::ok;
    auto begin = [&] {
        start_status = start_routing(std::move(*cfg), startup, ready);
        if (start_status != exit_code::ok)
            loop_.stop();
    };
    if (opts_.startup_delay > 0) {
        log_.notice(cat("start-up delay: routing begins in ", opts_.startup_delay, " s"));
        loop_.after(std::chrono::seconds(opts_.startup_delay), begin);
    } else {
        begin();
        if (start_status != exit_code::ok)
            return start_status;
    }

    int status = exit_code::ok;
    if (auto st = loop_.run(); !st) {
        log_.error(st.error().message);
        status = exit_code::os_error;
    }
    if (start_status != exit_code::ok) // a delayed start that failed
        return start_status;
    clean_up_at_exit();
    return status;
}

// run_daemon's steps ---------------------------------------------------------------

// Refusals (code 0) are 77, like any other "not permitted"; OS errors 71.
int refused(const Error& e)
{
    std::fprintf(stderr, "smcroute: %s\n", e.message.c_str());
    return e.code == 0 ? exit_code::permission : exit_code::os_error;
}

// The socket and pid file's places, checked before anything else: a refusal
// ends the start here, in the foreground, with the reason. With -p USER the
// default ones move into the runtime directory (os/runtime_files), which
// RUNTIME_DIR then holds; paths given with -u/-P stay as given.
int place_runtime_files(DaemonOptions& opts, Logger& log, std::optional<RuntimeDir>& runtime_dir)
{
    if (!opts.user.empty()) {
        if (auto ug = resolve_user_group(opts.user); !ug) { // before anything is made for that user
            std::fprintf(stderr, "smcroute: %s\n", ug.error().message.c_str());
            return exit_code::os_error;
        }
        if (auto ok = check_ident(opts.ident); !ok)
            return refused(ok.error());
        auto dir = use_runtime_dir(opts.ident, opts.socket_given, opts.pid_file_given, opts.socket_path,
                                   opts.pid_file, log);
        if (!dir)
            return refused(dir.error());
        runtime_dir = std::move(*dir);
    }
    if (auto st = check_runtime_paths(opts.socket_path, opts.pid_file); !st) {
        if (runtime_dir)
            (void)runtime_dir->remove_if_made();
        return refused(st.error());
    }
    return exit_code::ok;
}

} // namespace

int run_daemon(const DaemonOptions& given, const std::vector<ClientCommand>& startup)
{
    DaemonOptions opts = given;
    Logger log;
    log.set_level(opts.log_level);
    std::optional<RuntimeDir> runtime_dir;
    if (int st = place_runtime_files(opts, log, runtime_dir); st != exit_code::ok)
        return st;
    ReadyPipe ready;
    if (!opts.foreground) {
        auto bg = daemonize();
        if (!bg) {
            std::fprintf(stderr, "smcroute: %s\n", bg.error().message.c_str());
            if (runtime_dir)
                (void)runtime_dir->remove_if_made();
            return exit_code::os_error;
        }
        if (bg->parent)
            return bg->parent_status;
        ready = std::move(bg->ready);
        // Until ready, errors also reach the starting terminal through the pipe.
        log.use_syslog(opts.ident);
    } else if (opts.syslog) {
        log.use_syslog(opts.ident);
    }
    ::umask(022);
    Daemon daemon(opts, log, std::move(runtime_dir));
    return daemon.run(startup, ready);
}

int check_config(const std::string& path)
{
    auto files = make_disk_files();
    ParseResult parsed = judge_config_file(path, *files);
    std::string text = diagnostics_text(parsed);
    if (!text.empty())
        std::fputs(text.c_str(), stderr);
    size_t errors = parsed.error_count();
    if (errors) {
        std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), errors);
        return exit_code::config;
    }
    return exit_code::ok;
}

} // namespace smcroute
