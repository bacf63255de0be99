#include "smcroute/runtime/control.hpp"

#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/show.hpp"

#include <array>
#include <memory>
#include <unistd.h>

namespace smcroute {

namespace {

std::string issues_text(const std::vector<ArgIssue>& issues, Severity severity)
{
    std::string text;
    for (const auto& i : issues) {
        if (i.severity != severity)
            continue;
        if (!text.empty())
            text += "; ";
        text += i.message;
    }
    return text;
}

std::string join_words(const std::vector<std::string>& words)
{
    std::string out;
    for (const auto& w : words) {
        if (!out.empty())
            out += ' ';
        out += w;
    }
    return out;
}

std::vector<std::string> spec_oifs(const RouteSpec& spec)
{
    std::vector<std::string> out;
    out.reserve(spec.oifs.size());
    for (const auto& o : spec.oifs)
        out.push_back(o.str());
    return out;
}

} // namespace

void Control::handle(const Request& req, const Peer& peer, Reply& reply)
{
    if (req.args.empty()) {
        reply.end(exit_code::usage, "empty request");
        return;
    }
    auto verb = match_verb(req.args[0]);
    if (!verb || verb_info(*verb).name != req.args[0]) {
        reply.end(exit_code::usage, cat("unknown command '", req.args[0], "'"));
        return;
    }
    const VerbInfo& info = verb_info(*verb);
    if (info.changes_state && !peer.may_change_state) {
        log_.notice(cat("refused '", info.name, "' from uid ", peer.uid, ": permission denied"));
        reply.end(exit_code::permission,
                  cat(info.name, ": permission denied (only root or members of the socket group may change state)"));
        return;
    }
    if (auto ok = check_arity(info, req.args.size() - 1); !ok) {
        reply.end(exit_code::usage, ok.error().message);
        return;
    }
    Handler handler = handler_of(*verb);
    if (!handler) {
        reply.end(exit_code::usage, cat("unknown command '", req.args[0], "'"));
        return;
    }
    (this->*handler)(req, reply);
}

// The daemon's handler of each verb: what answers it once the verb, the
// peer's right and the number of words are checked.
Control::Handler Control::handler_of(Verb verb)
{
    struct Entry {
        Verb verb;
        Handler handler;
    };
    static constexpr auto handlers = std::to_array<Entry>({
        {Verb::add, &Control::add},
        {Verb::remove, &Control::remove},
        {Verb::join, &Control::join},
        {Verb::leave, &Control::leave},
        {Verb::show, &Control::show},
        {Verb::check, &Control::check},
        {Verb::flush, &Control::flush},
        {Verb::reload, &Control::reload},
        {Verb::kill, &Control::kill},
        {Verb::version, &Control::version},
        {Verb::help, &Control::help},
        {Verb::monitor, &Control::monitor},
    });
    for (const auto& e : handlers)
        if (e.verb == verb)
            return e.handler;
    return nullptr; // a verb the daemon does not know yet
}

void Control::flush(const Request&, Reply& reply)
{
    size_t n = router_.flush_dynamic();
    log_.info(cat("flushed ", n, " learned entries and stop filters"));
    if (events_ && events_->wanted())
        events_->publish(Event{EventKind::flushed, {}}.add("count", uint64_t{n}));
    reply.end(exit_code::ok, "");
}

void Control::reload(const Request& req, Reply& reply)
{
    if (req.args.size() > 1) {
        if (req.args[1] != dry_run_word || !hooks_.dry_run) {
            reply.end(exit_code::usage, cat("reload: unexpected '", req.args[1], "' (expected ", dry_run_word, ")"));
            return;
        }
        auto answer = hooks_.dry_run(req.flags & req_json);
        for (const auto& row : answer.rows)
            reply.row(row);
        reply.end(answer.status, answer.message);
        return;
    }
    if (auto st = hooks_.reload(); !st) {
        log_.log_plain(LogLevel::err, st.error().message); // the log says why, like SIGHUP
        reply.end(exit_code::failed, st.error().message);
        return;
    }
    reply.end(exit_code::ok, "");
}

void Control::kill(const Request&, Reply& reply)
{
    reply.end(exit_code::ok, "");
    hooks_.kill();
}

void Control::version(const Request&, Reply& reply)
{
    reply.row(hooks_.version());
    reply.end(exit_code::ok, "");
}

void Control::help(const Request&, Reply& reply)
{
    reply.end(exit_code::usage, "help is answered by the client");
}

void Control::check(const Request&, Reply& reply)
{
    reply.end(exit_code::usage, "check runs in the client");
}

void Control::show(const Request& req, Reply& reply)
{
    ShowSources from{router_, groups_, show_widths_, hooks_.running_config ? hooks_.running_config() : nullptr,
                     hooks_.status};
    from.proxy = proxy_;
    smcroute::show(from, req, reply);
}

Status Control::check_interfaces(const RouteSpec& spec) const
{
    if (!spec.iif.is_wildcard() && !router_.find_interface(spec.iif.view()))
        return fail(cat("no such interface '", spec.iif.view(), "'"));
    for (const auto& o : spec.oifs)
        if (!o.is_wildcard() && !router_.find_interface(o.view()))
            return fail(cat("no such interface '", o.view(), "'"));
    return {};
}

// The route words of an add or remove, checked by the validator the config
// file uses, in a family this router has. Answers the request when they
// are not (the result then holds no value).
Checked<RouteSpec> Control::route_request(const Request& req, Reply& reply)
{
    std::string_view verb = req.args[0];
    std::vector<std::string> words(req.args.begin() + 1, req.args.end());
    auto checked = check_route(split_route_words(words));
    if (!checked.value) {
        reply.end(exit_code::failed, cat(verb, ": ", issues_text(checked.issues, Severity::error)));
        return checked;
    }
    if (auto st = router_.family_status(checked.value->family()); !st) {
        reply.end(exit_code::failed, cat(verb, ": ", st.error().message));
        checked.value.reset();
    }
    return checked;
}

void Control::add(const Request& req, Reply& reply)
{
    auto checked = route_request(req, reply);
    if (!checked.value)
        return;
    const RouteSpec& spec = *checked.value;
    if (auto st = check_interfaces(spec); !st) {
        reply.end(exit_code::failed, cat("add: ", st.error().message));
        return;
    }
    if (auto st = router_.add(spec, Origin::client); !st) {
        log_.error(st.error().message);
        reply.end(exit_code::failed, cat("add: ", st.error().message));
        return;
    }
    if (log_.enabled(LogLevel::info)) // built only when wanted: this runs once per batch line
        log_.info(cat("added ", spec.key_str(), " from ", spec.iif.view(),
                      spec.oifs.empty() ? std::string(" as a stop filter (no outbound interface)")
                                        : cat(" to ", join_words(spec_oifs(spec)))));
    std::string warnings = issues_text(checked.issues, Severity::warning);
    reply.end(exit_code::ok, warnings.empty() ? "" : cat("warning: ", warnings));
}

void Control::remove(const Request& req, Reply& reply)
{
    auto checked = route_request(req, reply);
    if (!checked.value)
        return;
    const RouteSpec& spec = *checked.value;
    if (auto st = router_.remove(spec, !spec.oifs.empty()); !st) {
        reply.end(exit_code::failed, cat("remove: ", st.error().message));
        return;
    }
    if (log_.enabled(LogLevel::info))
        log_.info(cat("removed ", spec.key_str(), " from ", spec.iif.view(),
                      spec.oifs.empty() ? "" : cat(" outbound ", join_words(spec_oifs(spec)))));
    reply.end(exit_code::ok, "");
}

void Control::join(const Request& req, Reply& reply)
{
    join_or_leave(req, reply, true);
}

void Control::leave(const Request& req, Reply& reply)
{
    join_or_leave(req, reply, false);
}

void Control::join_or_leave(const Request& req, Reply& reply, bool join)
{
    std::string_view verb = join ? "join" : "leave";
    std::vector<std::string> words(req.args.begin() + 1, req.args.end());
    if (!groups_) {
        reply.end(exit_code::failed, cat(verb, ": group membership is not available"));
        return;
    }
    JoinText text{words[0], words.size() == 3 ? std::string_view(words[1]) : std::string_view(),
                  words.back()};
    auto checked = check_join(text, max_join_expansion_);
    if (!checked.value) {
        reply.end(exit_code::failed, cat(verb, ": ", issues_text(checked.issues, Severity::error)));
        return;
    }
    const JoinSpec& spec = *checked.value;
    if (join && !spec.iif.is_wildcard() && !router_.find_interface(spec.iif.view())) {
        reply.end(exit_code::failed, cat(verb, ": no such interface '", spec.iif.view(), "'"));
        return;
    }
    Status st = join ? groups_->add(spec, Origin::client) : groups_->remove(spec);
    if (!st) {
        reply.end(exit_code::failed, cat(verb, ": ", st.error().message));
        return;
    }
    if (log_.enabled(LogLevel::info))
        log_.info(cat(join ? "joined " : "left ", spec.key_str(), " on ", spec.iif.view()));
    reply.end(exit_code::ok, "");
}

void Control::monitor(const Request& req, Reply& reply)
{
    if (!events_) {
        reply.end(exit_code::unavailable, "monitor: this daemon publishes no events");
        return;
    }
    const bool json = (req.flags & req_json) != 0;
    auto render = [json](const Event& ev) { return json ? event_json(ev) : event_text(ev); };
    auto held = reply.hold([render](uint64_t dropped) {
        return render(Event{EventKind::events_dropped, {}}.add("count", dropped));
    });
    if (!held) {
        reply.end(exit_code::unavailable, "monitor: this answer cannot be held open");
        return;
    }
    // The first line: subscribed from here on.
    held->push(render(Event{EventKind::monitor_started, {}}
                          .add("pid", static_cast<uint64_t>(::getpid()))
                          .add("daemon", hooks_.version ? hooks_.version() : std::string("smcroute"))));
    events_->subscribe([held = std::shared_ptr<HeldReply>(held), json](const EventLines& lines) {
        held->push(json ? lines.json() : lines.text());
        return held->open();
    });
}

} // namespace smcroute
