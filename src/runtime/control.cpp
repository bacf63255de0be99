#include "smcroute/runtime/control.hpp"

#include "smcroute/model/commands.hpp"
#include "smcroute/os/kernel_groups.hpp"
#include "smcroute/base/table.hpp"

#include <memory>

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

std::string_view state_name(const RouteView& v)
{
    if (!v.active)
        return "pending";
    switch (v.kind) {
    case RouteView::Kind::rule: return "rule";
    case RouteView::Kind::route: return "active";
    case RouteView::Kind::learned: return "learned";
    case RouteView::Kind::stop: return "stop";
    }
    return "?";
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
    const bool takes_words = *verb == Verb::add || *verb == Verb::remove || *verb == Verb::join ||
                             *verb == Verb::leave || *verb == Verb::show;
    if (!takes_words && req.args.size() > 1) {
        reply.end(exit_code::usage, cat(info.name, " takes no arguments"));
        return;
    }
    switch (*verb) {
    case Verb::add: add(req, reply); return;
    case Verb::remove: remove(req, reply); return;
    case Verb::show: show(req, reply); return;
    case Verb::flush: {
        size_t n = router_.flush_dynamic();
        log_.info(cat("flushed ", n, " learned entries and stop filters"));
        reply.end(exit_code::ok, "");
        return;
    }
    case Verb::reload: {
        if (auto st = hooks_.reload(); !st) {
            log_.log_plain(LogLevel::err, st.error().message); // the log says why, like SIGHUP
            reply.end(exit_code::failed, st.error().message);
            return;
        }
        reply.end(exit_code::ok, "");
        return;
    }
    case Verb::kill:
        reply.end(exit_code::ok, "");
        hooks_.kill();
        return;
    case Verb::version:
        reply.row(hooks_.version());
        reply.end(exit_code::ok, "");
        return;
    case Verb::join: join_or_leave(req, reply, true); return;
    case Verb::leave: join_or_leave(req, reply, false); return;
    case Verb::help:
        reply.end(exit_code::usage, "help is answered by the client");
        return;
    case Verb::check:
        reply.end(exit_code::usage, "check runs in the client");
        return;
    }
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

void Control::add(const Request& req, Reply& reply)
{
    std::vector<std::string> words(req.args.begin() + 1, req.args.end());
    if (words.size() < 3) {
        reply.end(exit_code::usage, "add needs IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF ...]");
        return;
    }
    auto checked = check_route(split_route_words(words), true);
    if (!checked.value) {
        reply.end(exit_code::failed, cat("add: ", issues_text(checked.issues, Severity::error)));
        return;
    }
    const RouteSpec& spec = *checked.value;
    if (!router_.has_family(spec.family())) {
        reply.end(exit_code::failed, cat("add: ", family_name(spec.family()), " multicast routing is not available"));
        return;
    }
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
        log_.info(cat("added ", spec.key_str(), " from ", spec.iif.view(), " to ", join_words(spec_oifs(spec))));
    std::string warnings = issues_text(checked.issues, Severity::warning);
    reply.end(exit_code::ok, warnings.empty() ? "" : cat("warning: ", warnings));
}

void Control::remove(const Request& req, Reply& reply)
{
    std::vector<std::string> words(req.args.begin() + 1, req.args.end());
    if (words.size() < 2) {
        reply.end(exit_code::usage, "remove needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
        return;
    }
    auto checked = check_route(split_route_words(words), false);
    if (!checked.value) {
        reply.end(exit_code::failed, cat("remove: ", issues_text(checked.issues, Severity::error)));
        return;
    }
    const RouteSpec& spec = *checked.value;
    if (!router_.has_family(spec.family())) {
        reply.end(exit_code::failed,
                  cat("remove: ", family_name(spec.family()), " multicast routing is not available"));
        return;
    }
    if (auto st = router_.remove(spec, !spec.oifs.empty()); !st) {
        reply.end(exit_code::failed, cat("remove: ", st.error().message));
        return;
    }
    if (log_.enabled(LogLevel::info))
        log_.info(cat("removed ", spec.key_str(), " from ", spec.iif.view(),
                      spec.oifs.empty() ? "" : cat(" outbound ", join_words(spec_oifs(spec)))));
    reply.end(exit_code::ok, "");
}

void Control::show(const Request& req, Reply& reply)
{
    ShowWhat what = ShowWhat::routes;
    if (req.args.size() > 1) {
        auto w = match_show(req.args[1]);
        if (!w) {
            reply.end(exit_code::usage, w.error().message);
            return;
        }
        what = *w;
    }
    if (req.args.size() > 2 && what != ShowWhat::memberships) {
        reply.end(exit_code::usage, cat("show ", show_name(what), " takes no further arguments"));
        return;
    }
    switch (what) {
    case ShowWhat::routes: show_routes(req, reply, false); return;
    case ShowWhat::pending: show_routes(req, reply, true); return;
    case ShowWhat::interfaces: show_interfaces(req, reply); return;
    case ShowWhat::groups: show_groups(req, reply); return;
    case ShowWhat::memberships: show_memberships(req, reply); return;
    }
}

namespace {

// Rows handed to the client per pull of a streamed listing, and rows the
// first pass of a text listing measures per pull (it sends nothing, so the
// IPC server pulls it again at once: small pulls keep each turn short).
constexpr size_t rows_per_pull = 256;
constexpr size_t measures_per_pull = 64;

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

// One `show routes` answer, streamed from the live table through a
// Router::Listing (see there what a listing shows of routes that change
// while it is being sent). It keeps a cursor and the buffers of one row,
// never the rows: it costs the same for ten routes or a million, however
// slowly the client reads. JSON goes in one pass. Text columns are as wide
// as their widest value, so text takes two passes: the first only
// measures, the second sends each row padded to those widths. A row that
// grew in between (a counter gained a digit, a longer route was added)
// pushes the rest of its line to the right. The widths of a first pass
// during which the table did not change are kept (Control::ShowWidths),
// so listings of an unchanged table, the usual case, take one pass.
class RouteStream {
public:
    // widths: where text column widths are kept between listings (unused
    // with -d or JSON).
    RouteStream(const Router& router, uint32_t flags, bool only_pending, Control::ShowWidths& widths)
        : router_(router), listing_(router.list()), json_(flags & req_json), detail_(flags & req_detail),
          headings_(flags & req_headings), only_pending_(only_pending), table_(headings_of(detail_, only_pending)),
          widths_(json_ || detail_ ? nullptr : &widths), measuring_(!json_), measured_at_(router.version())
    {
        if (widths_ && widths_->valid && widths_->version == measured_at_) {
            table_.set_column_widths(widths_->widths); // the same table as last measured
            measuring_ = false;
        }
    }

    // One pull; false once the answer is complete (END sent).
    bool produce(Reply& out)
    {
        if (measuring_) {
            bool more = listing_.next(measures_per_pull, [&](const RouteView& v) {
                if (!wanted(v))
                    return;
                render(v);
                if (detail_)
                    table_.measure({key_, iif_, state_, packets_, bytes_, wrong_if_, oifs_});
                else
                    table_.measure({key_, iif_, state_, oifs_});
                ++measured_;
            });
            if (more)
                return true;
            measuring_ = false;
            listing_.rewind();
            if (widths_ && router_.version() == measured_at_) // the table did not change meanwhile
                *widths_ = Control::ShowWidths{true, measured_at_, table_.column_widths()};
            if (measured_ == 0) // nothing to align: none listed now either
                return finish(out);
            return true;
        }
        if (!opened_) {
            opened_ = true;
            if (json_)
                out.row(only_pending_ ? "{\"pending\": [" : "{\"routes\": [");
        }
        bool more = listing_.next(rows_per_pull, [&](const RouteView& v) {
            if (!wanted(v))
                return;
            render(v);
            if (json_) {
                out.row(json_object(v));
            } else {
                if (sent_ == 0 && headings_)
                    table_.render_heading([&](std::string_view line) { out.row(line); });
                auto emit = [&](std::string_view line) { out.row(line); };
                if (detail_)
                    table_.render_row({key_, iif_, state_, packets_, bytes_, wrong_if_, oifs_}, headings_, emit);
                else
                    table_.render_row({key_, iif_, state_, oifs_}, headings_, emit);
            }
            ++sent_;
        });
        return more ? true : finish(out);
    }

private:
    static std::vector<std::string> headings_of(bool detail, bool only_pending)
    {
        std::vector<std::string> headings{"ROUTE (S,G)", "IIF", "STATE"};
        if (detail)
            headings.insert(headings.end(), {"PACKETS", "BYTES", "WRONGIF"});
        headings.push_back(only_pending ? "REASON" : "OIFS");
        return headings;
    }

    bool wanted(const RouteView& v) const { return !only_pending_ || !v.active; }

    bool finish(Reply& out)
    {
        if (json_) {
            if (!opened_)
                out.row(only_pending_ ? "{\"pending\": [" : "{\"routes\": [");
            out.row("]}");
        } else if (sent_ == 0) {
            out.row(only_pending_ ? "No pending routes." : "No routes.");
        }
        out.end(exit_code::ok, "");
        return false;
    }

    // The row's cells into the buffers (reused: no allocation per row once warm).
    void render(const RouteView& v)
    {
        named_oifs_ = nullptr; // else v.oifs
        key_.clear();
        if (v.kind == RouteView::Kind::rule) {
            key_ = v.spec->key_str();
            iif_ = v.spec->iif.view();
            source_ = v.spec->any_source() ? "*" : v.spec->source.str();
            group_ = v.spec->group.str();
            named_oifs_ = &v.spec->oifs;
        } else {
            source_ = v.key.source.str();
            group_ = v.key.group.str();
            key_.append("(").append(source_).append(", ").append(group_).append(")");
            iif_ = v.iif;
            if (v.kind == RouteView::Kind::route || (v.kind == RouteView::Kind::stop && v.spec))
                named_oifs_ = &v.spec->oifs;
        }
        n_oifs_ = named_oifs_ ? named_oifs_->size() : v.oifs.size();
        have_counters_ = false;
        if (detail_ && v.active && v.kind != RouteView::Kind::rule) {
            if (auto r = router_.counters(v.key)) {
                counters_ = *r;
                have_counters_ = true;
            }
        }
        state_ = state_name(v);
        if (json_)
            return;
        oifs_.clear();
        if (only_pending_) {
            oifs_ = v.pending_reason;
        } else {
            for (size_t i = 0; i < n_oifs_; ++i) {
                if (i)
                    oifs_ += ' ';
                oifs_ += oif(v, i);
            }
        }
        if (detail_) {
            packets_ = have_counters_ ? cat(counters_.packets) : "-";
            bytes_ = have_counters_ ? cat(counters_.bytes) : "-";
            wrong_if_ = have_counters_ ? cat(counters_.wrong_if) : "-";
        }
    }

    std::string_view oif(const RouteView& v, size_t i) const
    {
        return named_oifs_ ? (*named_oifs_)[i].view() : std::string_view(v.oifs[i]);
    }

    const std::string& json_object(const RouteView& v)
    {
        std::string& o = object_;
        o.clear();
        o += sent_ == 0 ? "{\"kind\": " : ",{\"kind\": ";
        append_json_string(o, kind_name(v.kind));
        o += ", \"source\": ";
        append_json_string(o, source_);
        o += ", \"group\": ";
        append_json_string(o, group_);
        o += ", \"iif\": ";
        append_json_string(o, iif_);
        o += ", \"oifs\": [";
        for (size_t i = 0; i < n_oifs_; ++i) {
            if (i)
                o += ", ";
            append_json_string(o, oif(v, i));
        }
        o += "], \"state\": ";
        append_json_string(o, state_);
        o += ", \"origin\": ";
        append_json_string(o, v.origin == Origin::config ? "config" : "client");
        if (!v.pending_reason.empty()) {
            o += ", \"reason\": ";
            append_json_string(o, v.pending_reason);
        }
        if (v.kind == RouteView::Kind::rule)
            o += cat(", \"learned\": ", v.learned);
        if (v.kind == RouteView::Kind::learned) {
            o += ", \"rule\": ";
            append_json_string(o, v.spec->key_str());
        }
        if (have_counters_)
            o += cat(", \"packets\": ", counters_.packets, ", \"bytes\": ", counters_.bytes,
                     ", \"wrong_if\": ", counters_.wrong_if);
        o += "}";
        return o;
    }

    const Router& router_;
    Router::Listing listing_;
    const bool json_, detail_, headings_, only_pending_;
    Table table_; // text: the headings and column widths, no rows
    Control::ShowWidths* widths_;
    bool measuring_;
    uint64_t measured_at_;     // the Router's version when the first pass began
    bool opened_ = false;
    size_t measured_ = 0; // rows the first pass saw
    size_t sent_ = 0;     // rows sent
    // The current row.
    std::string key_, source_, group_, iif_, oifs_, packets_, bytes_, wrong_if_, object_;
    std::string_view state_;
    const std::vector<IfName>* named_oifs_ = nullptr;
    size_t n_oifs_ = 0;
    MfcCounters counters_;
    bool have_counters_ = false;
};

} // namespace

void Control::show_routes(const Request& req, Reply& reply, bool only_pending)
{
    auto stream = std::make_shared<RouteStream>(router_, req.flags, only_pending, show_widths_[only_pending]);
    reply.stream([stream](Reply& out) { return stream->produce(out); });
}

void Control::show_interfaces(const Request& req, Reply& reply)
{
    const bool json = req.flags & req_json;
    Table table({"INDEX", "PHYINT", "STATE", "VIF", "MIF"});
    if (json)
        reply.row("{\"interfaces\": [");
    bool first = true;
    for (const auto& [index, iface] : router_.interfaces()) {
        auto vif = router_.vif_of(Family::inet, index);
        auto mif = router_.vif_of(Family::inet6, index);
        if (json) {
            reply.row(cat(first ? "" : ",", "{\"index\": ", index, ", \"name\": ", json_string(iface.name.view()),
                          ", \"up\": ", iface.up() ? "true" : "false", ", \"vif\": ", vif ? cat(*vif) : "null",
                          ", \"mif\": ", mif ? cat(*mif) : "null", "}"));
            first = false;
            continue;
        }
        table.add({cat(index), iface.name.str(), iface.up() ? "up" : "down", vif ? cat(*vif) : "-",
                   mif ? cat(*mif) : "-"});
    }
    if (json)
        reply.row("]}");
    else
        table.render(req.flags & req_headings, [&](std::string_view line) { reply.row(line); });
    reply.end(exit_code::ok, "");
}

} // namespace smcroute

namespace smcroute {

void Control::join_or_leave(const Request& req, Reply& reply, bool join)
{
    std::string_view verb = join ? "join" : "leave";
    std::vector<std::string> words(req.args.begin() + 1, req.args.end());
    if (words.size() < 2 || words.size() > 3) {
        reply.end(exit_code::usage, cat(verb, " needs IIF [SOURCE[/LEN]] GROUP[/LEN]"));
        return;
    }
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

void Control::show_groups(const Request& req, Reply& reply)
{
    const bool detail = req.flags & req_detail;
    const bool json = req.flags & req_json;
    if (!groups_) {
        reply.end(exit_code::failed, "show groups: group membership is not available");
        return;
    }
    Table table({"GROUP (S,G)", "IIF", "STATE", detail ? "JOINED" : "ORIGIN"});
    bool first = true;
    if (json)
        reply.row("{\"groups\": [");
    groups_->for_each_join([&](const JoinView& v) {
        const JoinSpec& spec = *v.spec;
        std::string state = v.active ? "active" : "pending";
        std::string origin = v.origin == Origin::config ? "config" : "client";
        if (json) {
            std::string o = cat(first ? "" : ",", "{\"source\": ",
                                json_string(spec.source ? spec.source->str() : "*"), ", \"group\": ",
                                json_string(spec.group.str()), ", \"iif\": ", json_string(spec.iif.view()),
                                ", \"state\": ", json_string(state), ", \"origin\": ", json_string(origin),
                                ", \"addresses\": ", v.addresses, ", \"interfaces\": [");
            for (size_t i = 0; i < v.ifaces.size(); ++i)
                o += cat(i ? ", " : "", json_string(v.ifaces[i]));
            o += "]";
            if (!v.pending_reason.empty())
                o += cat(", \"reason\": ", json_string(v.pending_reason));
            if (detail) {
                o += ", \"memberships\": [";
                bool mfirst = true;
                groups_->for_each_membership(spec, [&](const Membership& m) {
                    o += cat(mfirst ? "" : ", ", "{\"interface\": ", json_string(m.ifname.view()),
                             ", \"source\": ", json_string(m.source ? m.source->str() : "*"),
                             ", \"group\": ", json_string(m.group.str()), "}");
                    mfirst = false;
                });
                o += "]";
            }
            o += "}";
            first = false;
            reply.row(o);
            return;
        }
        table.add({spec.key_str(), spec.iif.str(), state,
                   detail ? cat(v.addresses, v.addresses == 1 ? " address" : " addresses") : origin});
        if (detail)
            groups_->for_each_membership(spec, [&](const Membership& m) {
                table.add({cat("  ", m.source ? cat("(", m.source->str(), ", ", m.group.str(), ")")
                                              : cat("(*, ", m.group.str(), ")")),
                           m.ifname.str(), "joined", ""});
            });
    });
    if (json)
        reply.row("]}");
    else if (table.empty())
        reply.row("No group joins.");
    else
        table.render(req.flags & req_headings, [&](std::string_view line) { reply.row(line); });
    reply.end(exit_code::ok, "");
}

void Control::show_memberships(const Request& req, Reply& reply)
{
    // Options after the subject: -i IF, -f inet|inet6.
    std::string iface, fam;
    for (size_t i = 2; i < req.args.size(); ++i) {
        const std::string& w = req.args[i];
        if ((w == "-i" || w == "-f") && i + 1 < req.args.size()) {
            (w == "-i" ? iface : fam) = req.args[++i];
            continue;
        }
        reply.end(exit_code::usage, cat("show memberships: unexpected '", w, "' (expected -i IF or -f inet|inet6)"));
        return;
    }
    if (!fam.empty() && fam != "inet" && fam != "inet6") {
        reply.end(exit_code::usage, cat("show memberships: unknown family '", fam, "' (expected inet or inet6)"));
        return;
    }
    auto all = read_kernel_memberships();
    if (!all) {
        reply.end(exit_code::os_error, cat("show memberships: ", all.error().message));
        return;
    }
    const bool json = req.flags & req_json;
    Table table({"INTERFACE", "GROUP", "MODE", "SOURCES", "USERS"});
    bool first = true;
    if (json)
        reply.row("{\"memberships\": [");
    for (const auto& m : *all) {
        if (!iface.empty() && m.ifname != iface)
            continue;
        if (!fam.empty() && (fam == "inet") != m.group.is_v4())
            continue;
        std::string sources;
        for (const auto& src : m.sources)
            sources += cat(sources.empty() ? "" : " ", src.str());
        if (json) {
            std::string o = cat(first ? "" : ",", "{\"interface\": ", json_string(m.ifname), ", \"family\": ",
                                json_string(m.group.is_v4() ? "inet" : "inet6"), ", \"group\": ",
                                json_string(m.group.str()), ", \"mode\": ", json_string(filter_mode_name(m.mode)),
                                ", \"sources\": [");
            for (size_t i = 0; i < m.sources.size(); ++i)
                o += cat(i ? ", " : "", json_string(m.sources[i].str()));
            o += cat("], \"users\": ", m.users, "}");
            first = false;
            reply.row(o);
            continue;
        }
        table.add({m.ifname, m.group.str(), std::string(filter_mode_name(m.mode)), sources.empty() ? "-" : sources,
                   cat(m.users)});
    }
    if (json)
        reply.row("]}");
    else if (table.empty())
        reply.row("No memberships.");
    else
        table.render(req.flags & req_headings, [&](std::string_view line) { reply.row(line); });
    reply.end(exit_code::ok, "");
}

} // namespace smcroute
