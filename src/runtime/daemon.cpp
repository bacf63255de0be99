#include "smcroute/runtime/daemon.hpp"

#include "smcroute/runtime/client.hpp"
#include "smcroute/model/config.hpp"
#include "smcroute/os/config_files.hpp"
#include "smcroute/runtime/control.hpp"
#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/runtime/groups.hpp"
#include "smcroute/os/interfaces.hpp"
#include "smcroute/runtime/ipc_server.hpp"
#include "smcroute/os/memory.hpp"
#include "smcroute/os/membership.hpp"
#include "smcroute/runtime/mrdisc.hpp"
#include "smcroute/os/notify.hpp"
#include "smcroute/os/privileges.hpp"
#include "smcroute/runtime/router.hpp"
#include "smcroute/os/runtime_files.hpp"
#include "smcroute/runtime/script.hpp"
#include "smcroute/os/signals.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <grp.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace smcroute {

namespace {

// The write end of the start-up pipe: the background child reports "ready" or
// why it failed through it, so the parent can exit with the right status.
class ReadyPipe {
public:
    ReadyPipe() = default;
    explicit ReadyPipe(int fd) : fd_(fd) {}
    bool active() const { return fd_.valid(); }
    void report(int status, std::string_view message)
    {
        if (!fd_)
            return;
        std::string text = cat(status, "\n", message);
        ssize_t rc = ::write(fd_.get(), text.data(), text.size());
        (void)rc;
        fd_.reset();
    }

private:
    UniqueFd fd_;
};

// A group by name or number, for --socket-group.
Result<gid_t> lookup_group(const std::string& name)
{
    std::vector<char> buf(16384);
    group gr{};
    group* found = nullptr;
    if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found)
        return found->gr_gid;
    unsigned long n = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (!name.empty() && ec == std::errc() && end == name.data() + name.size())
        return static_cast<gid_t>(n);
    return fail(cat("unknown group '", name, "'"));
}

// Routes by key (IIF, source, group), whatever their OIFs.
struct RouteKeyHash {
    size_t operator()(const RouteSpec& r) const noexcept
    {
        size_t h = std::hash<IfName>{}(r.iif);
        h = h * 1099511628211ULL ^ (std::hash<IpAddr>{}(r.source.addr) + r.source.len);
        return h * 1099511628211ULL ^ (std::hash<IpAddr>{}(r.group.addr) + r.group.len);
    }
};
struct SameRouteKey {
    bool operator()(const RouteSpec& a, const RouteSpec& b) const
    {
        return a.iif == b.iif && a.source == b.source && a.group == b.group;
    }
};

struct JoinSpecHash {
    size_t operator()(const JoinSpec& j) const noexcept
    {
        size_t h = std::hash<IfName>{}(j.iif);
        auto mix = [&h](size_t v) { h = h * 1099511628211ULL ^ v; };
        if (j.source)
            mix(std::hash<IpAddr>{}(j.source->addr) + j.source->len);
        mix(std::hash<IpAddr>{}(j.group.addr) + j.group.len);
        return h;
    }
};

std::string diagnostics_text(const ParseResult& parsed)
{
    std::string text;
    for (const auto& d : parsed.diagnostics) {
        text += d.format();
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
    Daemon(const DaemonOptions& opts, Logger& log)
        : opts_(opts), log_(log), stray_log_(log), notifier_(SystemdNotifier::from_env()),
          script_(loop_, log_, opts.script)
    {
    }
    // Returns the exit status.
    int run(const std::vector<ClientCommand>& startup, ReadyPipe& ready);

private:
    // Errors with code EINTR when a stop signal came meanwhile (exit_pending).
    Result<Config> load_config(bool at_start);
    // Routes live only in the router: the config keeps phyints and joins.
    void forget_routes(Config& cfg);
    // Both false when they gave up, part-way, for a stop signal.
    bool apply_config(const Config& cfg);
    bool add_routes_and_joins(const Config& cfg);
    Status reload();
    // SIGTERM, SIGINT or SIGQUIT waits in the signalfd: loading or applying
    // a big config gives up, so the loop reads it and the daemon exits
    // promptly. Checked every check_every routes.
    bool exit_pending() const { return EventLoop::signal_pending(stop_signals_); }
    static constexpr size_t check_every = 1024;
    void drain_upcalls(MrouteSocket& s);
    void read_links();
    // Router discovery on the interfaces a running phyint marks mrdisc.
    void update_mrdisc();
    int fail_start(ReadyPipe& ready, int status, const std::string& message);
    // Open the routing sockets, learn the interfaces, apply the config and
    // report ready; 0 or the exit status of the failure.
    int start_routing(Config cfg, Control::Hooks hooks, const std::vector<ClientCommand>& startup,
                      ReadyPipe& ready);

    const DaemonOptions& opts_;
    size_t config_routes_ = 0; // route lines of the running config
    Logger& log_;
    StraySignalLog stray_log_;
    std::vector<int> stop_signals_ = stop_signals();
    EventLoop loop_;
    std::unique_ptr<Mrdisc> mrdisc_; // terminations go out before loop_ ends
    std::unique_ptr<MrouteSocket> v4_, v6_;
    std::unique_ptr<Router> router_;
    MembershipPool pool_; // before groups_, which leaves through it
    std::unique_ptr<GroupManager> groups_;
    std::unique_ptr<Control> control_;
    std::unique_ptr<IpcServer> server_;
    std::optional<PidFile> pid_file_; // once written
    std::optional<LinkMonitor> links_;
    Config running_;
    SystemdNotifier notifier_;
    ActionScript script_; // after loop_, which it registers with
};

int Daemon::fail_start(ReadyPipe& ready, int status, const std::string& message)
{
    if (status == exit_code::config) // diagnostics carry their own "error:"
        log_.log_plain(LogLevel::err, message);
    else
        log_.error(message);
    ready.report(status, message);
    return status;
}

Result<Config> Daemon::load_config(bool at_start)
{
    auto files = make_disk_files();
    struct stat st{};
    if (!opts_.config_given && ::stat(opts_.config_file.c_str(), &st) != 0 && errno == ENOENT) {
        log_.info(cat("no config file ", opts_.config_file, ", starting with no routes"));
        return Config{};
    }
    ParseOptions popts;
    popts.interrupted = [this] { return exit_pending(); };
    ParseResult parsed = parse_config_file(opts_.config_file, *files, popts);
    if (parsed.interrupted)
        return Error{EINTR, cat(opts_.config_file, ": ", at_start ? "start-up" : "reload",
                                " abandoned: asked to exit", at_start ? "" : ", keeping the running config")};
    size_t errors = parsed.error_count();
    // Each diagnostic is printed once: here when the config is used anyway,
    // else by the caller, in the error that refuses it.
    if (errors == 0 || (at_start && opts_.start_despite_errors))
        for (const auto& d : parsed.diagnostics)
            log_.log_plain(d.severity == Severity::error ? LogLevel::err : LogLevel::warning, d.format());
    if (errors == 0)
        return std::move(parsed.config);
    if (at_start && opts_.start_despite_errors) {
        log_.warning(cat(opts_.config_file, ": ", errors, " error(s); starting with the valid lines"));
        return std::move(parsed.config);
    }
    return fail(cat(diagnostics_text(parsed), opts_.config_file, ": ", errors, " error(s)",
                    at_start ? "" : ", keeping the running config"));
}

void Daemon::forget_routes(Config& cfg)
{
    std::vector<Located<RouteSpec>>().swap(cfg.routes);
    // The parser's buffers (file text, located routes) are free now: give
    // the pages back rather than keep the load's peak for the daemon's life.
    release_free_memory();
}

bool Daemon::apply_config(const Config& cfg)
{
    std::vector<PhyintSpec> phyints;
    for (const auto& p : cfg.phyints)
        phyints.push_back(p.spec);
    router_->set_phyints(phyints);
    return add_routes_and_joins(cfg);
}

bool Daemon::add_routes_and_joins(const Config& cfg)
{
    router_->reserve(router_->static_count() + cfg.routes.size());
    size_t n = 0;
    for (const auto& r : cfg.routes) {
        if (++n % check_every == 0 && exit_pending())
            return false;
        if (!router_->has_family(r.spec.family())) {
            log_.error(cat(r.loc.file, ":", r.loc.line, ": ", family_name(r.spec.family()),
                           " multicast routing is not available, route ", r.spec.key_str(), " ignored"));
            continue;
        }
        if (auto st = router_->add(r.spec, Origin::config); !st)
            log_.error(cat(r.loc.file, ":", r.loc.line, ": ", st.error().message));
    }
    for (const auto& j : cfg.joins) {
        if (++n % check_every == 0 && exit_pending())
            return false;
        if (auto st = groups_->add(j.spec, Origin::config); !st)
            log_.error(cat(j.loc.file, ":", j.loc.line, ": ", st.error().message));
    }
    return true;
}

Status Daemon::reload()
{
    log_.notice(cat("reloading ", opts_.config_file));
    notifier_.reloading(cat("reloading ", opts_.config_file));
    auto cfg = load_config(false);
    if (!cfg) {
        notifier_.ready("reload failed, running the old config");
        return cfg.take_error();
    }
    // Apply only the difference, in linear time: removals, then changes,
    // then additions. Unchanged routes are not touched in the kernel; a route
    // whose OIFs changed is re-programmed in place (its traffic never stops).
    // The router's own table is the old side: no copy of the routes is kept.
    // Lines with the same key merge their OIFs, as adding them would.
    // A stop signal meanwhile abandons the reload, before the first change
    // if it comes in time, else part-way: the daemon exits next anyway.
    size_t n = 0;
    bool changed = false;
    auto abandoned = [&] {
        return Error{EINTR, cat(opts_.config_file, ": reload abandoned: asked to exit",
                                changed ? " (part-way)" : ", keeping the running config")};
    };
    auto give_up = [&] { return ++n % check_every == 0 && exit_pending(); };
    std::unordered_map<RouteSpec, size_t, RouteKeyHash, SameRouteKey> next_by_key;
    std::vector<Located<RouteSpec>> next;
    next.reserve(cfg->routes.size());
    for (auto& r : cfg->routes) {
        if (give_up())
            return abandoned();
        auto [it, inserted] = next_by_key.emplace(RouteSpec{r.spec.iif, r.spec.source, r.spec.group, {}}, next.size());
        if (inserted) {
            next.push_back(std::move(r));
            continue;
        }
        auto& merged = next[it->second].spec.oifs;
        for (const auto& o : r.spec.oifs)
            if (std::find(merged.begin(), merged.end(), o) == merged.end())
                merged.push_back(o);
    }
    std::vector<Located<RouteSpec>>().swap(cfg->routes);
    if (exit_pending())
        return abandoned();
    changed = true;
    router_->remove_origin(Origin::client);
    for (const auto& old : router_->keys_of(Origin::config)) {
        if (give_up())
            return abandoned();
        if (!next_by_key.count(old))
            (void)router_->remove(old, false);
    }
    std::vector<PhyintSpec> phyints;
    for (const auto& p : cfg->phyints)
        phyints.push_back(p.spec);
    if (phyints != router_->phyints())
        router_->set_phyints(phyints);
    Config added;
    for (auto& r : next) {
        if (give_up())
            return abandoned();
        auto found = router_->find(r.spec);
        if (!found) {
            added.routes.push_back(std::move(r));
            continue;
        }
        if (!(found->oifs == r.spec.oifs))
            if (auto st = router_->replace_oifs(r.spec); !st)
                log_.error(cat(r.loc.file, ":", r.loc.line, ": ", st.error().message));
    }
    config_routes_ = next.size();
    std::vector<Located<RouteSpec>>().swap(next);
    decltype(next_by_key)().swap(next_by_key);

    // Joins likewise: unchanged ones stay joined in the kernel.
    std::unordered_set<JoinSpec, JoinSpecHash> next_joins, old_joins;
    for (const auto& j : cfg->joins)
        next_joins.insert(j.spec);
    for (const auto& j : running_.joins)
        old_joins.insert(j.spec);
    groups_->remove_origin(Origin::client);
    for (const auto& old : running_.joins)
        if (!next_joins.count(old.spec))
            (void)groups_->remove(old.spec);
    for (const auto& j : cfg->joins)
        if (!old_joins.count(j.spec))
            added.joins.push_back(j);
    if (!add_routes_and_joins(added))
        return abandoned();
    running_ = std::move(*cfg);
    forget_routes(added);
    update_mrdisc();
    notifier_.ready("reloaded");
    log_.notice("reload done");
    script_.run("reload");
    return {};
}

int Daemon::start_routing(Config cfg, Control::Hooks hooks, const std::vector<ClientCommand>& startup,
                          ReadyPipe& ready)
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
    if (!v4_ && !v6_) {
        if (no_support)
            return fail_start(ready, exit_code::no_kernel_support,
                              cat("no multicast routing socket could be opened (", why,
                                  "): this kernel cannot route multicast; it needs CONFIG_IP_MROUTE and "
                                  "CONFIG_IPV6_MROUTE (README, \"No multicast routing in this kernel\", "
                                  "shows how to try smcroute in a VM)"));
        return fail_start(ready, denied ? exit_code::permission : exit_code::os_error,
                          cat("no multicast routing socket could be opened (", why, ")"));
    }

    router_ = std::make_unique<Router>(log_, v4_.get(), v6_.get());
    router_->set_max_learned(opts_.max_learned);
    router_->on_learned([this](const SgKey& k, std::string_view iif) {
        if (!script_.enabled()) // the environment is not built for nothing
            return;
        script_.run("install", {{"source", k.source.str()}, {"group", k.group.str()}, {"iif", std::string(iif)}});
    });
    groups_ = std::make_unique<GroupManager>(log_, pool_);
    control_ = std::make_unique<Control>(*router_, log_, std::move(hooks), groups_.get());
    if (auto n = raise_nofile_limit(); !n)
        log_.warning(n.error().message);
    for (MrouteSocket* s : {v4_.get(), v6_.get()})
        if (s && s->fd() >= 0)
            loop_.watch(s->fd(), POLLIN, [this, s](short) { drain_upcalls(*s); });

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

    running_ = std::move(cfg);
    if (!apply_config(running_))
        log_.notice("asked to exit while adding the config's routes: stopped adding them");
    config_routes_ = running_.routes.size();
    forget_routes(running_);
    mrdisc_ = std::make_unique<Mrdisc>(loop_, log_, std::chrono::seconds(opts_.mrdisc_interval));
    update_mrdisc();

    // Legacy `smcroute -d -a ...`: run the commands as root would.
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

    if (opts_.cache_timeout > 0)
        loop_.every(std::chrono::seconds(opts_.cache_timeout), [this] { router_->expire_idle(); });
    // Refused or dropped upcalls that no later upcall reported.
    loop_.every(std::chrono::seconds(10), [this] { router_->report_upcall_losses(); });

    // Replaced, never truncated or followed (os/runtime_files). A path
    // refused for safety stops the start; a pid file that merely cannot be
    // written (no permission, no directory) is a warning, as it always was.
    auto pid_file = PidFile::open(opts_.pid_file);
    Status written = pid_file ? pid_file->write(getpid()) : Status(pid_file.error());
    if (written)
        pid_file_ = std::move(*pid_file);
    else if (written.error().code == 0)
        return fail_start(ready, exit_code::permission, written.error().message);
    else
        log_.warning(written.error().message);

    if (!opts_.user.empty())
        if (auto st = drop_privileges(opts_.user, log_); !st)
            return fail_start(ready, exit_code::permission, st.error().message);
    log_.notice(cat("smcroute ", SMCROUTE_VERSION, " ready, socket ", opts_.socket_path,
                    opts_.table ? cat(", table ", opts_.table) : ""));
    ready.report(failures.empty() ? 0 : exit_code::failed, failures);
    notifier_.ready(cat("ready, ", config_routes_, " route(s) from ", opts_.config_file));
    script_.run("reload");
    return exit_code::ok;

}

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

void Daemon::read_links()
{
    bool overflowed = false;
    auto events = links_->read(overflowed);
    if (overflowed) {
        if (auto list = list_interfaces()) {
            router_->set_interfaces(*list);
            groups_->set_interfaces(router_->interfaces());
            update_mrdisc();
        }
        return;
    }
    for (const auto& ev : events)
        router_->link_event(ev);
    if (!events.empty()) { // the router's view is the one truth about interfaces
        groups_->set_interfaces(router_->interfaces());
        update_mrdisc();
    }
}

int Daemon::run(const std::vector<ClientCommand>& startup, ReadyPipe& ready)
{
    // Every signal whose default would end or stop the daemon is caught:
    // the stop signals and SIGHUP act, the stray ones are logged and
    // ignored, SIGPIPE is ignored (writes say EPIPE). Fault signals keep
    // their default. Children (-e) start with every default back.
    ::signal(SIGPIPE, SIG_IGN);
    if (auto st = ignore_reserved_signals(); !st)
        log_.warning(st.error().message);
    std::vector<int> caught = stop_signals_;
    caught.push_back(SIGHUP);
    const std::vector<int> stray = stray_signals();
    caught.insert(caught.end(), stray.begin(), stray.end());
    if (auto st = loop_.init_signals(caught); !st)
        return fail_start(ready, exit_code::os_error, st.error().message);
    for (int signo : stray)
        loop_.on_signal(signo, [this](const SignalInfo& s) { stray_log_.note(s.signo, s.pid, s.uid); });

    auto cfg = load_config(true);
    if (!cfg && cfg.error().code == EINTR) { // a stop signal during a long load
        log_.notice(cfg.error().message);
        ready.report(exit_code::ok, cfg.error().message);
        return exit_code::ok;
    }
    if (!cfg)
        return fail_start(ready, exit_code::config, cfg.error().message);

    Control::Hooks hooks{
        [this] { loop_.after(std::chrono::milliseconds(0), [this] { loop_.stop(); }); },
        [this] { return reload(); },
        [] { return cat("smcroute ", SMCROUTE_VERSION); },
    };
    IpcLimits access;
    access.mode = static_cast<mode_t>(opts_.socket_mode);
    if (!opts_.socket_group.empty()) {
        auto gid = lookup_group(opts_.socket_group);
        if (!gid)
            return fail_start(ready, exit_code::usage, gid.error().message);
        access.group = *gid;
    }
    // The IPC socket first: a live daemon on it is the clearest reason to stop.
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

    // With -d SEC clients are told "starting" until routing begins.
    int start_status = exit_code::ok;
    auto begin = [&] {
        start_status = start_routing(std::move(*cfg), std::move(hooks), startup, ready);
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
    notifier_.stopping("exiting, removing routes");
    log_.notice("exiting, removing routes");
    mrdisc_.reset(); // terminations while the interfaces are still there
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
    return status;
}

// Parent side of the background start: wait for the child's report.
int wait_for_child(int read_fd, pid_t child)
{
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(read_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(read_fd);
    if (text.empty()) {
        int wstatus = 0;
        ::waitpid(child, &wstatus, 0);
        std::fprintf(stderr, "smcroute: daemon failed to start\n");
        return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) ? WEXITSTATUS(wstatus) : exit_code::os_error;
    }
    auto nl = text.find('\n');
    int status = std::atoi(text.substr(0, nl).c_str());
    std::string message = nl == std::string::npos ? "" : text.substr(nl + 1);
    if (!message.empty()) {
        if (message.back() != '\n')
            message += '\n';
        std::fprintf(stderr, "smcroute: %s", message.c_str());
    }
    if (status != 0 && status != exit_code::failed) // a failed start: reap the child
        ::waitpid(child, nullptr, 0);
    return status;
}

} // namespace

// With -p USER the default socket and pid paths move into the runtime
// directory /run/IDENT/ (clients look there too). It is root's, mode 0755,
// so the user cannot replace the socket or plant links there; the price is
// that the daemon, no longer root at exit, cannot remove its files: they
// stay, and the next start replaces them. An existing directory is taken
// back from whoever owns it (an older smcroute gave it to the user); a
// symbolic link there is refused, never followed.
Status use_runtime_dir(DaemonOptions& opts, Logger& log)
{
    if (auto ok = check_ident(opts.ident); !ok)
        return ok;
    const std::string dir = runtime_dir(opts.ident);
    bool moved = false;
    if (opts.socket_path == default_socket_path(opts.ident)) {
        opts.socket_path = cat(dir, "/", opts.ident, ".sock");
        moved = true;
    }
    if (opts.pid_file == cat("/run/", opts.ident, ".pid")) {
        opts.pid_file = cat(dir, "/", opts.ident, ".pid");
        moved = true;
    }
    if (!moved)
        return {};
    auto made = make_runtime_dir("/run", opts.ident, log);
    if (!made)
        return made.take_error();
    return {};
}

// Before anything else: the directories of the socket and the pid file are
// fit to hold them (only root, or this user, may write there, unless
// sticky), and no other user's file sits at the pid file's name in a sticky
// one. A refusal ends the start here, in the foreground, with the reason.
// (A pid file that cannot be written for other reasons stays a warning.)
Status check_runtime_paths(const DaemonOptions& opts)
{
    auto sock = split_path(opts.socket_path);
    if (!sock)
        return Error{0, cat("IPC socket ", sock.error().message)};
    if (auto dir = FileDir::open(sock->dir); !dir && dir.error().code == 0)
        return Error{0, cat("cannot use ", opts.socket_path, " as IPC socket: ", dir.error().message)};
    if (auto pid = PidFile::open(opts.pid_file); !pid && pid.error().code == 0)
        return pid.take_error();
    return {};
}

int run_daemon(const DaemonOptions& given, const std::vector<ClientCommand>& startup)
{
    DaemonOptions opts = given;
    Logger log;
    log.set_level(opts.log_level);
    // Refusals (code 0) are 77, like any other "not permitted"; OS errors 71.
    auto refused = [](const Error& e) {
        std::fprintf(stderr, "smcroute: %s\n", e.message.c_str());
        return e.code == 0 ? exit_code::permission : exit_code::os_error;
    };
    if (!opts.user.empty()) {
        if (auto ug = resolve_user_group(opts.user); !ug) { // before anything is made for that user
            std::fprintf(stderr, "smcroute: %s\n", ug.error().message.c_str());
            return exit_code::os_error;
        }
        if (auto st = use_runtime_dir(opts, log); !st)
            return refused(st.error());
    }
    if (auto st = check_runtime_paths(opts); !st)
        return refused(st.error());
    ReadyPipe ready;
    if (!opts.foreground) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            std::perror("smcroute: pipe");
            return exit_code::os_error;
        }
        pid_t pid = ::fork();
        if (pid < 0) {
            std::perror("smcroute: fork");
            return exit_code::os_error;
        }
        if (pid > 0) {
            ::close(fds[1]);
            return wait_for_child(fds[0], pid);
        }
        ::close(fds[0]);
        ::setsid();
        ready = ReadyPipe(fds[1]);
        log.use_syslog(opts.ident);
        // Until ready, errors also reach the starting terminal through the pipe.
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            ::dup2(null, STDIN_FILENO);
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);
            ::close(null);
        }
    } else if (opts.syslog) {
        log.use_syslog(opts.ident);
    }
    ::umask(022);
    Daemon daemon(opts, log);
    return daemon.run(startup, ready);
}

int check_config(const std::string& path)
{
    auto files = make_disk_files();
    ParseResult parsed = parse_config_file(path, *files);
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
