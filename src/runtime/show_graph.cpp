#include "smcroute/runtime/show_graph.hpp"

#include "smcroute/base/dot.hpp"
#include "smcroute/base/json.hpp"
#include "smcroute/model/commands.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>

namespace smcroute {

namespace {

// Routes taken from the listing per pull (each may read a kernel counter).
constexpr size_t graph_rows_per_pull = 256;

// The node of the drop target: interface nodes are "if:NAME", so no
// interface name can collide with it.
constexpr std::string_view drop_id = "\"drop\"";

void append_if_id(std::string& out, std::string_view name)
{
    out += "\"if:";
    append_dot_escaped(out, name);
    out += '"';
}

void number_or_null(JsonWriter& w, std::string_view key, std::optional<unsigned> n)
{
    if (n)
        w.member(key, *n);
    else
        w.key(key).null();
}

std::string_view kind_word(RouteView::Kind k, bool plural)
{
    switch (k) {
    case RouteView::Kind::rule: return plural ? "rules" : "rule";
    case RouteView::Kind::route: return plural ? "routes" : "route";
    case RouteView::Kind::learned: return plural ? "learned entries" : "learned";
    case RouteView::Kind::stop: return plural ? "stop filters" : "stop filter";
    case RouteView::Kind::proxy: return plural ? "proxy entries" : "proxy";
    }
    return "?";
}

// Attributes every edge of a kind and state shares (after its label).
std::string_view edge_style(RouteView::Kind k, bool active)
{
    if (!active)
        return ", style=dashed, color=grey, fontcolor=grey";
    switch (k) {
    case RouteView::Kind::rule: return ", color=blue, fontcolor=blue";
    case RouteView::Kind::stop: return ", color=red, fontcolor=red";
    case RouteView::Kind::proxy: return ", color=darkgreen, fontcolor=darkgreen";
    case RouteView::Kind::route:
    case RouteView::Kind::learned: break;
    }
    return "";
}

// One edge as drawn: DOT writes label and the second line from it, JSON
// its fields.
struct Edge {
    std::string_view tail{};
    std::optional<std::string_view> head{}; // none: to the drop node
    RouteView::Kind kind = RouteView::Kind::route;
    bool route_active = false; // the route is in the kernel (a rule: listening); else pending
    bool active = false;       // route_active, and the outbound interface is reached
    std::string_view label{};  // DOT: the first line of the label
    std::string_view sg{};     // one route: its (S,G) text; aggregated: empty
    uint64_t routes = 0;       // aggregated: how many routes it stands for
    std::optional<uint64_t> packets{}; // counted by the kernel
    std::optional<uint64_t> learned{}; // an active rule: entries learned from it
};

// The graph as DOT rows, or (json) as the elements of {"graph": [...]}:
// the same elements in the same order.
class GraphStream {
public:
    GraphStream(const Router& router, bool json)
        : router_(router), listing_(router.list()),
          aggregate_(router.static_count() + router.rule_count() + router.dynamic_count() > graph_route_limit),
          json_(json)
    {
    }

    bool produce(Reply& out)
    {
        if (!opened_) {
            opened_ = true;
            if (json_) {
                out.row(JsonList::open("graph"));
            } else {
                out.row("digraph smcroute {");
                out.row("  // smcroute show graph: smcroute show graph | dot -Tsvg > routes.svg");
                out.row("  rankdir=LR;");
                out.row("  node [shape=box];");
            }
        }
        bool more = listing_.next(graph_rows_per_pull, [&](const RouteView& v) { add(v, out); });
        if (more)
            return true;
        finish(out);
        return false;
    }

private:
    // One aggregated edge: (tail, head or "" for drop, kind, active).
    using EdgeKey = std::tuple<std::string, std::string, RouteView::Kind, bool>;
    struct EdgeSum {
        uint64_t routes = 0;
        uint64_t packets = 0;
        uint64_t learned = 0; // rules: entries learned from them
    };

    void add(const RouteView& v, Reply& out)
    {
        ++listed_;
        std::string_view tail;
        const std::vector<IfName>* named = nullptr;
        if (v.kind == RouteView::Kind::rule) {
            tail = v.spec->iif.view();
            named = &v.spec->oifs;
        } else {
            tail = v.iif;
            if (v.spec && (v.kind == RouteView::Kind::route || v.kind == RouteView::Kind::stop))
                named = &v.spec->oifs;
        }
        heads_.clear();
        if (named)
            for (const auto& n : *named)
                heads_.push_back(n.view());
        else
            for (const auto& n : v.oifs)
                heads_.push_back(n);
        std::optional<MfcCounters> counters;
        if (v.active && v.kind != RouteView::Kind::rule)
            if (auto c = router_.counters(v.key))
                counters = *c;
        // Past the limits (many outbound interfaces a route, or a table that
        // grew while listed), the rest is aggregated.
        if (aggregate_ || drawn_ + std::max<size_t>(heads_.size(), 1) > graph_edge_limit
            || routes_drawn_ >= graph_route_limit)
            add_aggregated(v, tail, counters);
        else
            add_edges(v, tail, counters, out);
    }

    // One edge per outbound interface (or one to drop), drawn now.
    void add_edges(const RouteView& v, std::string_view tail, const std::optional<MfcCounters>& counters, Reply& out)
    {
        ++routes_drawn_;
        if (v.kind == RouteView::Kind::rule)
            sg_ = v.spec->key_str();
        else
            sg_ = cat("(", v.key.source.str(), ", ", v.key.group.str(), ")");
        label_ = sg_;
        if (v.kind != RouteView::Kind::route)
            label_ += cat(" ", kind_word(v.kind, false));
        Edge e{.tail = tail, .kind = v.kind, .route_active = v.active, .label = label_, .sg = sg_};
        if (v.active && v.kind == RouteView::Kind::rule)
            e.learned = v.learned;
        else if (v.active && counters)
            e.packets = counters->packets;
        note_name(tail);
        if (heads_.empty()) {
            used_drop_ = true;
            e.active = v.active;
            emit(out, e);
            return;
        }
        for (auto head : heads_) {
            note_name(head);
            e.head = head;
            e.active = v.active && reaches(head);
            emit(out, e);
        }
    }

    // An outbound interface that is missing gets nothing (its edge is drawn
    // dashed); a wildcard stands for those present.
    bool reaches(std::string_view oif) const
    {
        return (!oif.empty() && oif.back() == '+') || router_.find_interface(oif) != nullptr;
    }

    void emit(Reply& out, const Edge& e)
    {
        ++drawn_;
        if (json_) {
            JsonWriter o = json_list_.next(line_);
            o.object().member("type", "edge").member("from", e.tail).key("to");
            if (e.head)
                o.string(*e.head);
            else
                o.null();
            o.member("kind", route_kind_name(e.kind)).member_bool("active", e.active);
            if (e.routes)
                o.member("routes", e.routes);
            else
                o.member("label", e.sg);
            if (e.packets)
                o.member("packets", *e.packets);
            if (e.learned)
                o.member("learned", *e.learned);
            o.end();
            out.row(line_);
            return;
        }
        line_.assign("  ");
        append_if_id(line_, e.tail);
        line_ += " -> ";
        if (e.head)
            append_if_id(line_, *e.head);
        else
            line_ += drop_id;
        line_ += " [label=\"";
        append_dot_escaped(line_, e.label);
        std::string_view second;
        if (!e.route_active)
            second = "pending";
        else if (e.learned)
            second = second_ = cat(*e.learned, " learned");
        else if (e.packets)
            second = second_ = cat(*e.packets, *e.packets == 1 ? " packet" : " packets");
        if (!second.empty()) {
            line_ += "\\n";
            append_dot_escaped(line_, second);
        }
        line_ += '"';
        line_ += edge_style(e.kind, e.active);
        line_ += "];";
        out.row(line_);
    }

    // A comment in DOT, a note in JSON.
    void note(Reply& out, std::string_view text)
    {
        if (json_) {
            json_list_.next(line_).object().member("type", "note").member("text", text).end();
            out.row(line_);
        } else {
            out.row(cat("  // ", text));
        }
    }

    void add_aggregated(const RouteView& v, std::string_view tail, const std::optional<MfcCounters>& counters)
    {
        ++aggregated_;
        auto one = [&](std::string_view head) {
            EdgeKey key{std::string(tail), std::string(head), v.kind, v.active};
            auto it = sums_.find(key);
            if (it == sums_.end()) {
                if (sums_.size() >= graph_edge_limit)
                    return false;
                it = sums_.emplace(std::move(key), EdgeSum{}).first;
            }
            ++it->second.routes;
            if (counters)
                it->second.packets += counters->packets;
            if (v.kind == RouteView::Kind::rule)
                it->second.learned += v.learned;
            return true;
        };
        bool all = true;
        if (heads_.empty())
            all = one("");
        for (auto head : heads_)
            all = one(head) && all;
        if (!all)
            ++left_out_;
    }

    void note_name(std::string_view name)
    {
        if (names_.size() < 2 * graph_edge_limit || names_.count(name))
            names_.emplace(name);
    }

    void finish(Reply& out)
    {
        if (aggregate_)
            note(out, cat("aggregated: ", listed_, " rules, routes, learned entries and stop filters, more than ",
                          graph_route_limit, ": one edge per inbound and outbound interface, kind and state"));
        else if (aggregated_)
            note(out, cat("aggregated: the last ", aggregated_, " of ", listed_,
                          " rules, routes, learned entries and stop filters, past ", drawn_,
                          " edges drawn one by one: one edge per inbound and outbound interface, kind and state"));
        for (const auto& [key, sum] : sums_) {
            const auto& [tail, head, kind, active] = key;
            label_ = cat(sum.routes, " ", kind_word(kind, sum.routes != 1));
            Edge e{.tail = tail, .kind = kind, .route_active = active, .label = label_, .routes = sum.routes};
            if (active && kind == RouteView::Kind::rule)
                e.learned = sum.learned;
            else if (active)
                e.packets = sum.packets;
            note_name(tail);
            if (head.empty()) {
                used_drop_ = true;
                e.active = active;
            } else {
                note_name(head);
                e.head = head;
                e.active = active && reaches(head);
            }
            emit(out, e);
        }
        if (left_out_)
            note(out, cat(left_out_, " rules, routes, learned entries and stop filters left out: more than ",
                          graph_edge_limit, " aggregated edges"));
        // Interfaces: those with a VIF or MIF, and those an edge names.
        for (const auto& [index, iface] : router_.interfaces()) {
            auto vif = router_.vif_of(Family::inet, index);
            auto mif = router_.vif_of(Family::inet6, index);
            auto named = names_.find(iface.name.view());
            if (!vif && !mif && named == names_.end())
                continue;
            if (named != names_.end())
                names_.erase(named);
            if (json_) {
                JsonWriter o = json_list_.next(line_);
                o.object().member("type", "node").member("name", iface.name.view());
                number_or_null(o, "vif", vif);
                number_or_null(o, "mif", mif);
                o.member_bool("up", iface.up()).member("state", "present").end();
                out.row(line_);
                continue;
            }
            std::string numbers;
            if (vif)
                numbers = cat("VIF ", *vif);
            if (mif)
                numbers += cat(numbers.empty() ? "" : ", ", "MIF ", *mif);
            if (numbers.empty())
                numbers = "no VIF";
            line_.assign("  ");
            append_if_id(line_, iface.name.view());
            line_ += " [label=\"";
            append_dot_escaped(line_, iface.name.view());
            line_ += cat("\\n", numbers, "\\n", iface.up() ? "up" : "down", "\"");
            if (!iface.up())
                line_ += ", color=grey, fontcolor=grey";
            line_ += "];";
            out.row(line_);
        }
        // Names no interface has now: wildcards, and missing interfaces.
        for (const auto& name : names_) {
            bool wildcard = !name.empty() && name.back() == '+';
            if (json_) {
                JsonWriter o = json_list_.next(line_);
                o.object().member("type", "node").member("name", name);
                o.key("vif").null().key("mif").null().member_bool("up", false);
                o.member("state", wildcard ? "wildcard" : "missing").end();
                out.row(line_);
                continue;
            }
            line_.assign("  ");
            append_if_id(line_, name);
            line_ += " [label=\"";
            append_dot_escaped(line_, name);
            line_ += wildcard ? "\\nwildcard\", style=dotted];"
                              : "\\nmissing\", style=dashed, color=grey, fontcolor=grey];";
            out.row(line_);
        }
        if (used_drop_ && json_) {
            json_list_.next(line_).object().member("type", "drop").end();
            out.row(line_);
        } else if (used_drop_) {
            out.row(cat("  ", drop_id, " [label=\"drop\", shape=octagon, color=red, fontcolor=red];"));
        }
        out.row(json_ ? JsonList::close() : "}");
        out.end(exit_code::ok, "");
    }

    const Router& router_;
    Router::Listing listing_;
    const bool aggregate_;
    const bool json_;
    JsonList json_list_; // json: the elements sent
    bool opened_ = false;
    bool used_drop_ = false;
    size_t listed_ = 0;       // routes the listing passed
    size_t routes_drawn_ = 0; // drawn one by one
    size_t drawn_ = 0;        // edges sent
    size_t aggregated_ = 0;   // routes drawn aggregated
    size_t left_out_ = 0;     // of them, routes not (wholly) drawn
    std::map<EdgeKey, EdgeSum> sums_; // aggregated: at most graph_edge_limit
    std::set<std::string, std::less<>> names_; // interface names the edges name
    std::vector<std::string_view> heads_;
    std::string sg_, label_, second_, line_;
};

} // namespace

void show_graph(const ShowSources& from, const Request& req, Reply& reply)
{
    auto stream = std::make_shared<GraphStream>(from.router, (req.flags & req_json) != 0);
    reply.stream([stream](Reply& out) { return stream->produce(out); });
}

} // namespace smcroute
