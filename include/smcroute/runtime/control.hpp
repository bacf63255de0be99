// runtime/control: answers one IPC request. Checks the verb and the peer's
// right to change state, validates arguments with the same validator as the
// config file, applies them to the Router and renders `show` output (text or
// JSON). Owns no sockets and no kernel state.
#pragma once

#include "smcroute/runtime/groups.hpp"
#include "smcroute/runtime/ipc_server.hpp"
#include "smcroute/runtime/router.hpp"

#include <array>
#include <functional>

namespace smcroute {

class Control {
public:
    struct Hooks {
        std::function<void()> kill;            // stop the daemon after replying
        std::function<Status()> reload;        // re-read the config
        std::function<std::string()> version;  // version line(s)
    };
    // groups may be null: joins are then refused.
    Control(Router& router, Logger& log, Hooks hooks, GroupManager* groups = nullptr,
            size_t max_join_expansion = default_max_join_expansion)
        : router_(router), log_(log), hooks_(std::move(hooks)), groups_(groups),
          max_join_expansion_(max_join_expansion)
    {
    }

    void handle(const Request& req, const Peer& peer, Reply& reply);

private:
    void add(const Request& req, Reply& reply);
    void remove(const Request& req, Reply& reply);
    void show(const Request& req, Reply& reply);
    void show_routes(const Request& req, Reply& reply, bool only_pending);
    void show_interfaces(const Request& req, Reply& reply);
    void join_or_leave(const Request& req, Reply& reply, bool join);
    void show_groups(const Request& req, Reply& reply);
    void show_memberships(const Request& req, Reply& reply);
    Status check_interfaces(const RouteSpec& spec) const;

public:
    // Text column widths found by the last complete first pass of `show`
    // (routes or pending; never -d: counters change while the table does
    // not), with the Router::version() the table had throughout: a text
    // listing of the same table reuses them and skips its first pass.
    struct ShowWidths {
        bool valid = false;
        uint64_t version = 0;
        std::vector<size_t> widths;
    };

private:
    Router& router_;
    Logger& log_;
    std::array<ShowWidths, 2> show_widths_; // [only_pending]
    Hooks hooks_;
    GroupManager* groups_;
    size_t max_join_expansion_;
};

} // namespace smcroute
