#include "smcroute/runtime/show.hpp"
#include "smcroute/runtime/show_graph.hpp"

#include "smcroute/model/commands.hpp"
#include "smcroute/model/config_text.hpp"
#include "smcroute/os/kernel_groups.hpp"
#include "smcroute/base/json.hpp"
#include "smcroute/base/table.hpp"

#include <array>
#include <cassert>
#include <memory>
#include <optional>

namespace smcroute {

namespace {

std::string_view state_name(const RouteView& v)
{
    if (!v.active)
        return "pending";
    switch (v.kind) {
    case RouteView::Kind::rule: return "rule";
    case RouteView::Kind::route: return "active";
    case RouteView::Kind::learned: return "learned";
    case RouteView::Kind::stop: return "stop";
    case RouteView::Kind::proxy: return "proxy";
    }
    return "?";
}

// Rows handed to the client per pull of a streamed listing, and rows the
// first pass of a text listing measures per pull (it sends nothing, so the
// IPC server pulls it again at once: small pulls keep each turn short).
constexpr size_t rows_per_pull = 256;
constexpr size_t measures_per_pull = 64;

// One `show routes` answer, streamed from the live table through a
// Router::Listing (see there what a listing shows of routes that change
// while it is being sent). It keeps a cursor and the buffers of one row,
// never the rows: it costs the same for ten routes or a million, however
// slowly the client reads. JSON goes in one pass. Text columns are as wide
// as their widest value, so text takes two passes: the first only
// measures, the second sends each row padded to those widths. A row that
// grew in between (a counter gained a digit, a longer route was added)
// pushes the rest of its line to the right. The widths of a first pass
// during which the table did not change are kept (ShowWidths),
// so listings of an unchanged table, the usual case, take one pass.
class RouteStream {
public:
    // widths: where text column widths are kept between listings (unused
    // with -d or JSON).
    RouteStream(const Router& router, uint32_t flags, bool only_pending, ShowWidths& widths)
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
                    table_.measure({key_, iif_, state_, packets_, bytes_, wrong_if_, age_, expires_, origin_, oifs_});
                else
                    table_.measure({key_, iif_, state_, oifs_});
                ++measured_;
            });
            if (more)
                return true;
            measuring_ = false;
            listing_.rewind();
            if (widths_ && router_.version() == measured_at_) // the table did not change meanwhile
                *widths_ = ShowWidths{true, measured_at_, table_.column_widths()};
            if (measured_ == 0) // nothing to align: none listed now either
                return finish(out);
            return true;
        }
        if (!opened_) {
            opened_ = true;
            if (json_)
                out.row(JsonList::open(list_name()));
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
                    table_.render_row({key_, iif_, state_, packets_, bytes_, wrong_if_, age_, expires_, origin_, oifs_},
                                      headings_, emit);
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
            headings.insert(headings.end(), {"PACKETS", "BYTES", "WRONGIF", "AGE", "EXPIRES", "ORIGIN"});
        headings.push_back(only_pending ? "REASON" : "OIFS");
        return headings;
    }

    std::string_view list_name() const { return only_pending_ ? "pending" : "routes"; }

    // show pending: routes not in the kernel, and those left without some OIFs.
    bool wanted(const RouteView& v) const { return !only_pending_ || !v.active || !v.pending_reason.empty(); }

    bool finish(Reply& out)
    {
        if (json_) {
            if (!opened_)
                out.row(JsonList::open(list_name()));
            out.row(JsonList::close());
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
        if (detail_)
            render_detail(v);
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
            age_ = span_text(age_s_);
            expires_ = expires_s_ ? span_text(*expires_s_) : "-";
        }
    }

    // -d: where the row came from, its age and, for learned entries and
    // stop filters with expiry on, the seconds left if it stays idle.
    void render_detail(const RouteView& v)
    {
        auto now = router_.now();
        age_s_ = v.since == Clock::time_point{} || now < v.since
                     ? 0
                     : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now - v.since).count());
        expires_s_.reset();
        if (have_counters_ && (v.kind == RouteView::Kind::learned || v.kind == RouteView::Kind::proxy ||
                               (v.kind == RouteView::Kind::stop && !v.spec)))
            if (auto at = router_.expires_at(v.key, counters_.packets))
                expires_s_ = *at <= now ? 0
                                        : static_cast<uint64_t>(
                                              std::chrono::duration_cast<std::chrono::seconds>(*at - now).count());
        origin_.clear();
        if (v.kind == RouteView::Kind::learned)
            origin_.append("rule ").append(v.spec->key_str());
        else if (v.kind == RouteView::Kind::proxy)
            origin_ = "proxy";
        else if (v.kind == RouteView::Kind::stop && !v.spec)
            origin_ = "upcall";
        else if (v.origin == Origin::client)
            origin_ = "client";
        else if (!v.file.empty())
            origin_.append(v.file).append(":").append(cat(v.line));
        else
            origin_ = "config";
    }

    std::string_view oif(const RouteView& v, size_t i) const
    {
        return named_oifs_ ? (*named_oifs_)[i].view() : std::string_view(v.oifs[i]);
    }

    const std::string& json_object(const RouteView& v)
    {
        JsonWriter o = json_list_.next(object_);
        o.object().member("kind", route_kind_name(v.kind)).member("source", source_).member("group", group_);
        o.member("iif", iif_).key("oifs").array();
        for (size_t i = 0; i < n_oifs_; ++i)
            o.string(oif(v, i));
        o.end().member("state", state_).member("origin", v.kind == RouteView::Kind::proxy    ? "proxy"
                                                   : v.origin == Origin::config ? "config"
                                                                                : "client");
        if (!v.pending_reason.empty())
            o.member("reason", v.pending_reason);
        if (v.kind == RouteView::Kind::rule)
            o.member("learned", v.learned);
        if (v.kind == RouteView::Kind::learned)
            o.member("rule", v.spec->key_str());
        if (have_counters_)
            o.member("packets", counters_.packets)
                .member("bytes", counters_.bytes)
                .member("wrong_if", counters_.wrong_if);
        if (detail_) {
            if (!v.file.empty())
                o.member("file", v.file).member("line", v.line);
            o.member("age", age_s_);
            if (expires_s_)
                o.member("expires_in", *expires_s_);
        }
        o.end();
        return object_;
    }

    const Router& router_;
    Router::Listing listing_;
    const bool json_, detail_, headings_, only_pending_;
    Table table_; // text: the headings and column widths, no rows
    ShowWidths* widths_;
    bool measuring_;
    uint64_t measured_at_;     // the Router's version when the first pass began
    bool opened_ = false;
    size_t measured_ = 0; // rows the first pass saw
    size_t sent_ = 0;     // rows sent
    // The current row.
    std::string key_, source_, group_, iif_, oifs_, packets_, bytes_, wrong_if_, age_, expires_, origin_, object_;
    uint64_t age_s_ = 0;
    std::optional<uint64_t> expires_s_;
    JsonList json_list_; // the JSON rows sent
    std::string_view state_;
    const std::vector<IfName>* named_oifs_ = nullptr;
    size_t n_oifs_ = 0;
    MfcCounters counters_;
    bool have_counters_ = false;
};

void show_routes(const ShowSources& from, const Request& req, Reply& reply, bool only_pending)
{
    auto stream = std::make_shared<RouteStream>(from.router, req.flags, only_pending, from.widths[only_pending]);
    reply.stream([stream](Reply& out) { return stream->produce(out); });
}

void show_interfaces(const ShowSources& from, const Request& req, Reply& reply)
{
    const bool json = req.flags & req_json;
    Table table({"INDEX", "PHYINT", "STATE", "VIF", "MIF"});
    if (json)
        reply.row(JsonList::open("interfaces"));
    JsonList list;
    std::string json_row;
    auto number_or_null = [](JsonWriter& w, std::string_view key, std::optional<unsigned> n) {
        if (n)
            w.member(key, *n);
        else
            w.key(key).null();
    };
    for (const auto& [index, iface] : from.router.interfaces()) {
        auto vif = from.router.vif_of(Family::inet, index);
        auto mif = from.router.vif_of(Family::inet6, index);
        if (json) {
            JsonWriter w = list.next(json_row);
            w.object().member("index", index).member("name", iface.name.view()).member_bool("up", iface.up());
            number_or_null(w, "vif", vif);
            number_or_null(w, "mif", mif);
            w.end();
            reply.row(json_row);
            continue;
        }
        table.add({cat(index), iface.name.str(), iface.up() ? "up" : "down", vif ? cat(*vif) : "-",
                   mif ? cat(*mif) : "-"});
    }
    if (json)
        reply.row(JsonList::close());
    else
        table.render(req.flags & req_headings, [&](std::string_view line) { reply.row(line); });
    reply.end(exit_code::ok, "");
}

void show_groups(const ShowSources& from, const Request& req, Reply& reply)
{
    const bool detail = req.flags & req_detail;
    const bool json = req.flags & req_json;
    GroupManager* groups = from.groups;
    if (!groups) {
        reply.end(exit_code::failed, "show groups: group membership is not available");
        return;
    }
    Table table({"GROUP (S,G)", "IIF", "STATE", detail ? "JOINED" : "ORIGIN"});
    JsonList list;
    std::string json_row;
    if (json)
        reply.row(JsonList::open("groups"));
    groups->for_each_join([&](const JoinView& v) {
        const JoinSpec& spec = *v.spec;
        std::string state = v.active ? "active" : "pending";
        std::string origin = v.origin == Origin::config ? "config" : "client";
        if (json) {
            JsonWriter o = list.next(json_row);
            o.object().member("source", spec.source ? spec.source->str() : "*").member("group", spec.group.str());
            o.member("iif", spec.iif.view()).member("state", state).member("origin", origin);
            o.member("addresses", v.addresses).string_array("interfaces", v.ifaces, [](const std::string& i) {
                return std::string_view(i);
            });
            if (!v.pending_reason.empty())
                o.member("reason", v.pending_reason);
            if (detail) {
                o.key("memberships").array();
                groups->for_each_membership(spec, [&](const Membership& m) {
                    o.object().member("interface", m.ifname.view());
                    o.member("source", m.source ? m.source->str() : "*").member("group", m.group.str()).end();
                });
                o.end();
            }
            o.end();
            reply.row(json_row);
            return;
        }
        table.add({spec.key_str(), spec.iif.str(), state,
                   detail ? cat(v.addresses, v.addresses == 1 ? " address" : " addresses") : origin});
        if (detail)
            groups->for_each_membership(spec, [&](const Membership& m) {
                table.add({cat("  ", m.source ? cat("(", m.source->str(), ", ", m.group.str(), ")")
                                              : cat("(*, ", m.group.str(), ")")),
                           m.ifname.str(), "joined", ""});
            });
    });
    if (json)
        reply.row(JsonList::close());
    else if (table.empty())
        reply.row("No group joins.");
    else
        table.render(req.flags & req_headings, [&](std::string_view line) { reply.row(line); });
    reply.end(exit_code::ok, "");
}

void show_memberships(const ShowSources&, const Request& req, Reply& reply)
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
    JsonList list;
    std::string json_row;
    if (json)
        reply.row(JsonList::open("memberships"));
    for (const auto& m : *all) {
        if (!iface.empty() && m.ifname != iface)
            continue;
        if (!fam.empty() && (fam == "inet") != m.group.is_v4())
            continue;
        std::string sources;
        for (const auto& src : m.sources)
            sources += cat(sources.empty() ? "" : " ", src.str());
        if (json) {
            JsonWriter o = list.next(json_row);
            o.object().member("interface", m.ifname).member("family", m.group.is_v4() ? "inet" : "inet6");
            o.member("group", m.group.str()).member("mode", filter_mode_name(m.mode));
            o.string_array("sources", m.sources, [](const IpAddr& a) { return a.str(); });
            o.member("users", m.users).end();
            reply.row(json_row);
            continue;
        }
        table.add({m.ifname, m.group.str(), std::string(filter_mode_name(m.mode)), sources.empty() ? "-" : sources,
                   cat(m.users)});
    }
    if (json)
        reply.row(JsonList::close());
    else if (table.empty())
        reply.row("No memberships.");
    else
        table.render(req.flags & req_headings, [&](std::string_view line) { reply.row(line); });
    reply.end(exit_code::ok, "");
}


void show_all_routes(const ShowSources& from, const Request& req, Reply& reply)
{
    show_routes(from, req, reply, false);
}

void show_pending(const ShowSources& from, const Request& req, Reply& reply)
{
    show_routes(from, req, reply, true);
}

// The effective configuration as config-file text (model/config_text):
// phyints and joins from the running config, with their lines; routes and
// rules from the router, one line per key with the OIFs it runs now and
// the line that configured it (the first of a merged key); then what
// clients added, commented out.
void show_config(const ShowSources& from, const Request& req, Reply& reply)
{
    const bool json = req.flags & req_json;
    JsonList list;
    std::string row;
    auto emit = [&](const ConfigLine& line) {
        if (!json) {
            reply.row(config_line_text(line));
            return;
        }
        JsonWriter w = list.next(row);
        config_line_json(w, line);
        reply.row(row);
    };
    if (json)
        reply.row(JsonList::open("config"));
    else
        for (auto line : config_text_heading)
            reply.row(line);
    if (from.config)
        for (const auto& p : from.config->phyints)
            emit(ConfigLine{"phyint", phyint_line(p.spec), p.loc});
    auto routes = [&](Origin origin) {
        from.router.for_each_route([&](const RouteView& v) {
            // Rules and static routes (a view of one owns its spec), not learned entries.
            if (v.origin != origin || !v.spec || (v.kind != RouteView::Kind::rule && !v.owned_spec))
                return;
            emit(ConfigLine{"mroute", route_line(*v.spec), SourceLoc{std::string(v.file), v.line},
                            origin == Origin::client});
        });
    };
    routes(Origin::config);
    if (from.config)
        for (const auto& j : from.config->joins)
            emit(ConfigLine{"mgroup", join_line(j.spec), j.loc});
    routes(Origin::client);
    if (from.groups)
        from.groups->for_each_join([&](const JoinView& v) {
            if (v.origin == Origin::client)
                emit(ConfigLine{"mgroup", join_line(*v.spec), {}, true});
        });
    if (json)
        reply.row(JsonList::close());
    reply.end(exit_code::ok, "");
}

// Each subject's renderer; options: whether it takes words after the
// subject (it then checks them itself).
struct Renderer {
    ShowWhat what;
    void (*render)(const ShowSources&, const Request&, Reply&);
    bool options;
};

constexpr auto renderers = std::to_array<Renderer>({
    {ShowWhat::routes, show_all_routes, false},
    {ShowWhat::groups, show_groups, false},
    {ShowWhat::interfaces, show_interfaces, false},
    {ShowWhat::pending, show_pending, false},
    {ShowWhat::memberships, show_memberships, true},
    {ShowWhat::graph, show_graph, false},
    {ShowWhat::config, show_config, false},
    {ShowWhat::status, show_status, false},
    {ShowWhat::metrics, show_metrics, false},
    {ShowWhat::proxy, show_proxy, false},
});

const Renderer& renderer_of(ShowWhat what)
{
    for (const auto& r : renderers)
        if (r.what == what)
            return r;
    assert(false && "show subject without a renderer");
    return renderers.front();
}

} // namespace

void show(const ShowSources& from, const Request& req, Reply& reply)
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
    const Renderer& r = renderer_of(what);
    if (req.args.size() > 2 && !r.options) {
        reply.end(exit_code::usage, cat("show ", show_name(what), " takes no further arguments"));
        return;
    }
    r.render(from, req, reply);
}

} // namespace smcroute
