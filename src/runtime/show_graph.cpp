#include "smcroute/runtime/show_graph.hpp"

#include "smcroute/base/dot.hpp"
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

std::string_view kind_word(RouteView::Kind k, bool plural)
{
    switch (k) {
    case RouteView::Kind::rule: return plural ? "rules" : "rule";
    case RouteView::Kind::route: return plural ? "routes" : "route";
    case RouteView::Kind::learned: return plural ? "learned entries" : "learned";
    case RouteView::Kind::stop: return plural ? "stop filters" : "stop filter";
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
    case RouteView::Kind::route:
    case RouteView::Kind::learned: break;
    }
    return "";
}

class GraphStream {
public:
    explicit GraphStream(const Router& router)
        : router_(router), listing_(router.list()),
          aggregate_(router.static_count() + router.rule_count() + router.dynamic_count() > graph_route_limit)
    {
    }

    bool produce(Reply& out)
    {
        if (!opened_) {
            opened_ = true;
            out.row("digraph smcroute {");
            out.row("  // smcroute show graph: smcroute show graph | dot -Tsvg > routes.svg");
            out.row("  rankdir=LR;");
            out.row("  node [shape=box];");
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
        label_.clear();
        if (v.kind == RouteView::Kind::rule)
            label_ = v.spec->key_str();
        else
            label_ = cat("(", v.key.source.str(), ", ", v.key.group.str(), ")");
        if (v.kind != RouteView::Kind::route)
            label_ += cat(" ", kind_word(v.kind, false));
        std::string second;
        if (!v.active)
            second = "pending";
        else if (v.kind == RouteView::Kind::rule)
            second = cat(v.learned, " learned");
        else if (counters)
            second = cat(counters->packets, counters->packets == 1 ? " packet" : " packets");
        note_name(tail);
        if (heads_.empty()) {
            used_drop_ = true;
            emit(out, tail, std::nullopt, second, v.kind, v.active);
            return;
        }
        for (auto head : heads_) {
            note_name(head);
            emit(out, tail, head, second, v.kind, v.active && reaches(head));
        }
    }

    // An outbound interface that is missing gets nothing (its edge is drawn
    // dashed); a wildcard stands for those present.
    bool reaches(std::string_view oif) const
    {
        return (!oif.empty() && oif.back() == '+') || router_.find_interface(oif) != nullptr;
    }

    void emit(Reply& out, std::string_view tail, std::optional<std::string_view> head, std::string_view second,
              RouteView::Kind kind, bool active)
    {
        line_.assign("  ");
        append_if_id(line_, tail);
        line_ += " -> ";
        if (head)
            append_if_id(line_, *head);
        else
            line_ += drop_id;
        line_ += " [label=\"";
        append_dot_escaped(line_, label_);
        if (!second.empty()) {
            line_ += "\\n";
            append_dot_escaped(line_, second);
        }
        line_ += '"';
        line_ += edge_style(kind, active);
        line_ += "];";
        out.row(line_);
        ++drawn_;
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
            out.row(cat("  // aggregated: ", listed_, " rules, routes, learned entries and stop filters, more than ",
                        graph_route_limit, ": one edge per inbound and outbound interface, kind and state"));
        else if (aggregated_)
            out.row(cat("  // aggregated: the last ", aggregated_, " of ", listed_,
                        " rules, routes, learned entries and stop filters, past ", drawn_,
                        " edges drawn one by one: one edge per inbound and outbound interface, kind and state"));
        for (const auto& [key, sum] : sums_) {
            const auto& [tail, head, kind, active] = key;
            label_ = cat(sum.routes, " ", kind_word(kind, sum.routes != 1));
            std::string second = !active ? "pending"
                                 : kind == RouteView::Kind::rule
                                     ? cat(sum.learned, " learned")
                                     : cat(sum.packets, sum.packets == 1 ? " packet" : " packets");
            note_name(tail);
            if (head.empty()) {
                used_drop_ = true;
                emit(out, tail, std::nullopt, second, kind, active);
            } else {
                note_name(head);
                emit(out, tail, std::string_view(head), second, kind, active && reaches(head));
            }
        }
        if (left_out_)
            out.row(cat("  // ", left_out_, " rules, routes, learned entries and stop filters left out: more than ",
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
            line_.assign("  ");
            append_if_id(line_, name);
            line_ += " [label=\"";
            append_dot_escaped(line_, name);
            line_ += wildcard ? "\\nwildcard\", style=dotted];"
                              : "\\nmissing\", style=dashed, color=grey, fontcolor=grey];";
            out.row(line_);
        }
        if (used_drop_)
            out.row(cat("  ", drop_id, " [label=\"drop\", shape=octagon, color=red, fontcolor=red];"));
        out.row("}");
        out.end(exit_code::ok, "");
    }

    const Router& router_;
    Router::Listing listing_;
    const bool aggregate_;
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
    std::string label_, line_;
};

} // namespace

void show_graph(const ShowSources& from, const Request& req, Reply& reply)
{
    if (req.flags & req_json) {
        reply.end(exit_code::usage, "show graph has no JSON form: its DOT is the machine-readable form "
                                    "(the routes as JSON: show -d -j)");
        return;
    }
    auto stream = std::make_shared<GraphStream>(from.router);
    reply.stream([stream](Reply& out) { return stream->produce(out); });
}

} // namespace smcroute
