// runtime/control: answers one IPC request. Checks the verb, the peer's
// right to change state and the number of words (the verb table of
// model/commands), then hands the request to the verb's handler through one
// table: route and join words are validated with the same validator as the
// config file and applied to the Router or GroupManager; `show` goes to
// runtime/show; `monitor` holds the answer open and subscribes it to the
// event bus. Owns no sockets and no kernel state.
#pragma once

#include "smcroute/runtime/events.hpp"
#include "smcroute/runtime/groups.hpp"
#include "smcroute/runtime/ipc_server.hpp"
#include "smcroute/runtime/router.hpp"
#include "smcroute/runtime/show.hpp"
#include "smcroute/model/commands.hpp"

#include <array>
#include <functional>

namespace smcroute {

class Control {
public:
    struct Hooks {
        std::function<void()> kill;            // stop the daemon after replying
        std::function<Status()> reload;        // re-read the config
        std::function<std::string()> version;  // version line(s)
        // reload --dry-run: what a reload would change, as rows (JSON
        // when asked), and the exit status (0: it would apply).
        struct DryRun {
            uint32_t status = 0;
            std::vector<std::string> rows;
            std::string message; // why it would be refused
        };
        std::function<DryRun(bool json)> dry_run;
        // show config: the running config's phyints and joins (null: none).
        std::function<const Config*()> running_config;
        std::function<DaemonStatus()> status = {}; // show status, show metrics (empty: refused)
    };
    // groups may be null: joins are then refused.
    Control(Router& router, Logger& log, Hooks hooks, GroupManager* groups = nullptr,
            size_t max_join_expansion = default_max_join_expansion)
        : router_(router), log_(log), hooks_(std::move(hooks)), groups_(groups),
          max_join_expansion_(max_join_expansion)
    {
    }

    void handle(const Request& req, const Peer& peer, Reply& reply);
    // The bus `monitor` subscribes to and `flush` publishes on; null: the
    // daemon has none, and monitor is refused. Must outlive the Control.
    void set_events(EventBus* bus) { events_ = bus; }
    // What `show proxy` reads; null: refused. Must outlive the Control.
    void set_proxy(const Proxy* proxy) { proxy_ = proxy; }

private:
    using Handler = void (Control::*)(const Request&, Reply&);
    static Handler handler_of(Verb verb); // null: none

    // One per verb (handler_of).
    void add(const Request& req, Reply& reply);
    void remove(const Request& req, Reply& reply);
    void join(const Request& req, Reply& reply);
    void leave(const Request& req, Reply& reply);
    void show(const Request& req, Reply& reply);
    void check(const Request& req, Reply& reply);
    void flush(const Request& req, Reply& reply);
    void reload(const Request& req, Reply& reply);
    void kill(const Request& req, Reply& reply);
    void version(const Request& req, Reply& reply);
    void help(const Request& req, Reply& reply);
    void monitor(const Request& req, Reply& reply);

    Checked<RouteSpec> route_request(const Request& req, Reply& reply);
    void join_or_leave(const Request& req, Reply& reply, bool join);
    Status check_interfaces(const RouteSpec& spec) const;

    Router& router_;
    Logger& log_;
    std::array<ShowWidths, 2> show_widths_; // [only_pending]
    Hooks hooks_;
    GroupManager* groups_;
    size_t max_join_expansion_;
    EventBus* events_ = nullptr;
    const Proxy* proxy_ = nullptr;
};

} // namespace smcroute
