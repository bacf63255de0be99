#include "smcroute/model/diagnose.hpp"

#include "smcroute/base/text.hpp"

#include <algorithm>
#include <cassert>
#include <set>

namespace smcroute {

namespace {

std::string loc_str(const SourceLoc& loc)
{
    return cat(loc.file, ':', loc.line);
}

// Everything the config says about one concrete interface name.
struct IfUse {
    std::string name;
    bool routed = false; // named by a route (IIF or OIF) or a join
    bool as_oif = false;
    bool v4 = false, v6 = false;
    const Located<PhyintSpec>* phyint = nullptr; // the last phyint line naming it
    const Located<PhyintSpec>* proxy = nullptr;  // the last one giving it a proxy role
};

class Diagnosis {
public:
    Diagnosis(const CheckRequest& req, const SystemFacts& facts) : req_(req), facts_(facts) {}

    std::vector<Finding> run()
    {
        collect_uses();
        check_daemon();
        for (const auto& use : uses_)
            check_interface(use);
        check_wildcards();
        for (const auto& r : req_.config.routes)
            check_route(r);
        check_join_limits();
        return std::move(out_);
    }

private:
    void add(Severity sev, std::string subject, std::string message, std::string fix)
    {
        out_.push_back(Finding{sev, std::move(subject), std::move(message), std::move(fix)});
    }
    void problem(std::string subject, std::string message, std::string fix = {})
    {
        add(Severity::error, std::move(subject), std::move(message), std::move(fix));
    }
    void warning(std::string subject, std::string message, std::string fix = {})
    {
        add(Severity::warning, std::move(subject), std::move(message), std::move(fix));
    }

    static std::string_view proxy_role(const Located<PhyintSpec>& p)
    {
        return p.spec.proxy.role == ProxyRole::upstream ? "upstream" : "downstream";
    }

    // Some phyint line, a wildcard one too, disables the interface.
    bool disabled(std::string_view name) const
    {
        return std::any_of(req_.config.phyints.begin(), req_.config.phyints.end(),
                           [&](const auto& p) { return !p.spec.enable && p.spec.name.matches(name); });
    }

    IfUse& use_of(const IfName& name)
    {
        for (auto& u : uses_)
            if (u.name == name.view())
                return u;
        uses_.push_back(IfUse{name.str()});
        return uses_.back();
    }

    void note(const IfName& name, Family f, bool oif)
    {
        if (name.is_wildcard()) {
            if (std::find(wildcards_.begin(), wildcards_.end(), name.str()) == wildcards_.end())
                wildcards_.push_back(name.str());
            return;
        }
        IfUse& u = use_of(name);
        u.routed = true;
        u.as_oif = u.as_oif || oif;
        (f == Family::inet ? u.v4 : u.v6) = true;
    }

    void collect_uses()
    {
        for (const auto& r : req_.config.routes) {
            note(r.spec.iif, r.spec.family(), false);
            for (const auto& o : r.spec.oifs)
                note(o, r.spec.family(), true);
        }
        for (const auto& j : req_.config.joins)
            note(j.spec.iif, j.spec.family(), false);
        for (const auto& p : req_.config.phyints) {
            if (p.spec.name.is_wildcard())
                continue;
            IfUse& u = use_of(p.spec.name);
            u.phyint = &p;
            if (p.spec.proxy.role != ProxyRole::none)
                u.proxy = &p;
        }
    }

    // ------------------------------------------------------------- daemon

    // The kernel and the daemon, whatever the config uses: the families it
    // uses, or (none used) every family the kernel supports.
    void check_daemon()
    {
        const bool v4 = uses_family(req_.config, Family::inet);
        const bool v6 = uses_family(req_.config, Family::inet6);
        const bool uses_none = !v4 && !v6;
        if (uses_none && !facts_.v4.kernel_support && !facts_.v6.kernel_support) {
            problem("kernel",
                    "no multicast routing support, neither IPv4 (CONFIG_IP_MROUTE) nor IPv6 "
                    "(CONFIG_IPV6_MROUTE): smcroute cannot route here",
                    "use a kernel built with them, or load their modules");
            return;
        }
        const std::string table = facts_.table == 0 ? std::string() : cat(" ", facts_.table);
        bool no_daemon_reported = false;
        for (Family f : {Family::inet, Family::inet6}) {
            const FamilyFacts& ff = f == Family::inet ? facts_.v4 : facts_.v6;
            if (!(f == Family::inet ? v4 : v6) && !(uses_none && ff.kernel_support))
                continue;
            std::string fam(family_name(f));
            if (!ff.kernel_support) {
                problem(cat(fam, " routing"),
                        cat("the kernel has no ", fam, " multicast routing support (",
                            f == Family::inet ? "CONFIG_IP_MROUTE" : "CONFIG_IPV6_MROUTE", ")"),
                        "use a kernel built with it, or load its module");
                continue;
            }
            switch (ff.holder) {
            case TableHolder::nobody:
                if (facts_.daemon_answers) {
                    problem(cat(fam, " routing"),
                            cat("the daemon answers, but nothing holds the ", fam, " multicast routing table", table,
                                ": it routes no ", fam, " (see its log; wrong -t table?)"),
                            "smcroute kill; " + req_.daemon_command);
                } else if (!no_daemon_reported) {
                    no_daemon_reported = true;
                    problem("daemon", "no multicast routing daemon is running: the kernel forwards nothing",
                            req_.daemon_command);
                }
                break;
            case TableHolder::held:
                if (!facts_.daemon_answers)
                    problem(cat(fam, " routing table", table.empty() ? " 0" : table),
                            cat("held by another program", ff.holder_detail.empty() ? "" : cat(", ", ff.holder_detail),
                                ", not by smcroute: smcroute cannot start while it runs (its VIFs: /proc/net/",
                                f == Family::inet ? "ip_mr_vif" : "ip6_mr_vif", ")"),
                            "stop that program, or give smcroute another table: smcroute -d --table 1");
                break;
            case TableHolder::unknown:
                if (!facts_.daemon_answers)
                    warning(cat(fam, " routing"),
                            "cannot tell whether a multicast routing daemon is running (run the check as root)",
                            "sudo smcroute check");
                break;
            }
        }
    }

    // --------------------------------------------------------- interfaces

    void check_interface(const IfUse& use)
    {
        const IfFacts* i = facts_.find(use.name);
        const std::string& n = use.name;
        if (!i) {
            if (use.routed)
                problem(n, "no such interface: the routes and joins that name it wait until it appears",
                        cat("ip link show (check the name), or create ", n));
            else if (use.proxy)
                problem(n, cat("no such interface: the proxy's ", proxy_role(*use.proxy), " (phyint at ",
                               loc_str(use.proxy->loc), "): nothing is proxied through it while it is missing"),
                        cat("ip link show (check the name), or create ", n));
            else if (use.phyint)
                warning(n, cat("no such interface (named by phyint at ", loc_str(use.phyint->loc), ")"),
                        "ip link show (check the name)");
            return;
        }
        if (!use.routed && !use.proxy)
            return; // a phyint alone forwards nothing: nothing to check
        if (i->loopback) {
            problem(n, "loopback interface: never used for multicast routing", "use another interface");
            return;
        }
        // Disabled by a phyint line: a warning of model/config_judge.
        bool broken = false;
        if (!i->up) {
            problem(n, "interface is down", cat("ip link set ", n, " up"));
            broken = true;
        } else if (!i->carrier) {
            problem(n, "interface is up but has no carrier (cable unplugged or the other end down)",
                    cat("connect it, or bring up its peer; ip link show ", n));
            broken = true;
        }
        if (!i->multicast) {
            problem(n, "interface has no MULTICAST flag", cat("ip link set ", n, " multicast on"));
            broken = true;
        }
        if (use.v4 && !i->has_v4_address)
            warning(n, "no IPv4 address: IGMP messages go out from 0.0.0.0, and the kernel's reverse-path "
                       "check cannot route sources back through it",
                    cat("ip addr add ADDRESS/LEN dev ", n));
        else if (!use.v4 && use.proxy && use.proxy->spec.proxy.covers(Family::inet) && !i->has_v4_address)
            warning(n, cat("no IPv4 address: the proxy's IGMP messages (its ", proxy_role(*use.proxy),
                           ") go out from 0.0.0.0, which many hosts and routers ignore"),
                    cat("ip addr add ADDRESS/LEN dev ", n));
        if (!use.v6 && use.proxy && use.proxy->spec.proxy.covers(Family::inet6) && !i->has_v6_address)
            warning(n, cat("no IPv6 address (IPv6 disabled?): the proxy's MLD part (its ", proxy_role(*use.proxy),
                           ") cannot run on it"),
                    cat("sysctl -w net.ipv6.conf.", n, ".disable_ipv6=0, or write igmp on that phyint line"));
        if (use.v6 && !i->has_v6_address) {
            problem(n, "no IPv6 address (IPv6 disabled?): IPv6 multicast cannot be routed on it",
                    cat("sysctl -w net.ipv6.conf.", n, ".disable_ipv6=0"));
            broken = true;
        }
        if (use.as_oif && use.phyint && use.phyint->spec.ttl_threshold > 1) {
            unsigned t = use.phyint->spec.ttl_threshold;
            warning(n,
                    cat("ttl-threshold ", t, " (phyint at ", loc_str(use.phyint->loc),
                        "): only packets that arrive with a TTL above ", t,
                        " leave through it; senders must use TTL ", t + 1, " or more"),
                    cat("raise the senders' TTL, or change that line to: phyint ", n, " ttl-threshold 1"));
        }
        if (req_.whole_config && facts_.daemon_answers && !broken && !disabled(n)) {
            bool missing_v4 = use.v4 && i->v4_vif == false && facts_.v4.kernel_support;
            bool missing_v6 = use.v6 && i->v6_vif == false && facts_.v6.kernel_support;
            if (missing_v4 || missing_v6)
                warning(n,
                        cat("the running daemon has no ", missing_v4 ? "VIF" : "MIF",
                            " on it (net.", missing_v4 ? "ipv4" : "ipv6", ".conf.", n,
                            ".mc_forwarding is 0): it does not run this configuration yet"),
                        "smcroute reload");
        }
    }

    void check_wildcards()
    {
        for (const auto& w : wildcards_) {
            auto name = IfName::parse(w);
            assert(name.ok());
            bool any = std::any_of(facts_.interfaces.begin(), facts_.interfaces.end(),
                                   [&](const IfFacts& i) { return !i.loopback && name->matches(i.name); });
            if (!any)
                problem(w, cat("no interface matches ", w, ": the routes and joins that name it wait until one appears"),
                        "ip link show (check the name)");
        }
    }

    // ------------------------------------------------------------- routes

    std::string route_subject(const Located<RouteSpec>& r) const
    {
        std::string s = cat("route ", r.spec.key_str(), " from ", r.spec.iif.view());
        if (req_.whole_config && !r.loc.file.empty())
            s += cat(" (", loc_str(r.loc), ")");
        return s;
    }

    // The config's own rules (link-local group, loops, conflicting
    // routes, disabled interfaces) are model/config_judge's; here only what
    // the system makes of a route.
    void check_route(const Located<RouteSpec>& r)
    {
        const RouteSpec& spec = r.spec;
        if (spec.family() == Family::inet && !spec.any_source() && !spec.iif.is_wildcard())
            check_rp_filter(r, route_subject(r));
    }

    void check_rp_filter(const Located<RouteSpec>& r, const std::string& subject)
    {
        const RouteSpec& spec = r.spec;
        const std::string iif = spec.iif.str();
        const IfFacts* i = facts_.find(iif);
        if (!i)
            return; // reported as missing
        int all = facts_.all_rp_filter.value_or(0);
        int own = i->rp_filter.value_or(0);
        int eff = std::max(all, own);
        if (eff <= 0)
            return;
        std::string values;
        std::string fix = "sysctl -w";
        if (all > 0) {
            values += cat("net.ipv4.conf.all.rp_filter = ", all);
            fix += " net.ipv4.conf.all.rp_filter=0";
        }
        if (own > 0) {
            values += cat(values.empty() ? "" : ", ", "net.ipv4.conf.", iif, ".rp_filter = ", own);
            fix += cat(" net.ipv4.conf.", iif, ".rp_filter=0");
        }
        const std::string mode = eff == 1 ? "strict" : "loose";
        const IpAddr& src = spec.source.addr;
        const std::string src_str = spec.source.str();
        auto route = facts_.route_to_source.find(src);
        if (route != facts_.route_to_source.end()) {
            if (route->second.empty())
                problem(subject,
                        cat("reverse-path filter (", values, ") drops its packets: the kernel has no route back to ",
                            src_str),
                        cat(fix, "   (or add a route to ", src_str, " via ", iif, ")"));
            else if (eff == 1 && route->second != iif)
                problem(subject,
                        cat("reverse-path filter is strict (", values, ") and the route back to ", src_str,
                            " goes out of ", route->second, ", not ", iif, ": the kernel drops its packets"),
                        cat(fix, "   (or route ", src_str, " via ", iif, ")"));
            return;
        }
        if (eff != 1)
            return;
        bool connected = std::any_of(i->v4_subnets.begin(), i->v4_subnets.end(),
                                     [&](const Prefix& p) { return p.contains(src); });
        if (!connected)
            warning(subject,
                    cat("reverse-path filter is strict (", values, ") and ", src_str, " is not on a subnet of ", iif,
                        ": unless the route back to it goes out of ", iif, ", the kernel drops its packets"),
                    fix);
    }

    // -------------------------------------------------------------- joins

    void check_join_limits()
    {
        uint64_t n = 0;
        for (const auto& j : req_.config.joins)
            if (j.spec.family() == Family::inet)
                n += j.spec.expansion();
        if (n == 0 || !facts_.igmp_max_memberships)
            return;
        uint64_t per_socket = *facts_.igmp_max_memberships;
        if (per_socket == 0) {
            problem("joins", "net.ipv4.igmp_max_memberships is 0: no IPv4 group can be joined",
                    "sysctl -w net.ipv4.igmp_max_memberships=20");
            return;
        }
        if (!facts_.nofile_limit)
            return;
        uint64_t sockets = (n + per_socket - 1) / per_socket;
        uint64_t limit = *facts_.nofile_limit;
        if (sockets + nofile_margin <= limit)
            return;
        std::string fix;
        if (limit > nofile_margin) {
            uint64_t room = limit - nofile_margin;
            fix = cat("sysctl -w net.ipv4.igmp_max_memberships=", (n + room - 1) / room,
                      "   (or raise the open-file limit: LimitNOFILE= / ulimit -Hn)");
        } else {
            fix = "raise the open-file limit (LimitNOFILE= in the unit, or ulimit -Hn)";
        }
        problem("joins",
                cat(n, " IPv4 joins need ", sockets, " membership sockets (net.ipv4.igmp_max_memberships = ",
                    per_socket, " each), more than the open-file limit ", limit, " leaves room for"),
                fix);
    }

    const CheckRequest& req_;
    const SystemFacts& facts_;
    std::vector<IfUse> uses_;
    std::vector<std::string> wildcards_;
    std::vector<Finding> out_;
};

} // namespace

const IfFacts* SystemFacts::find(std::string_view name) const
{
    for (const auto& i : interfaces)
        if (i.name == name)
            return &i;
    return nullptr;
}

std::vector<Finding> diagnose(const CheckRequest& req, const SystemFacts& facts)
{
    return Diagnosis(req, facts).run();
}

std::vector<IpAddr> sources_to_look_up(const Config& config)
{
    std::set<IpAddr> seen;
    for (const auto& r : config.routes)
        if (r.spec.family() == Family::inet && !r.spec.any_source())
            seen.insert(r.spec.source.addr);
    return {seen.begin(), seen.end()};
}

bool uses_family(const Config& config, Family f)
{
    return std::any_of(config.routes.begin(), config.routes.end(), [&](const auto& r) { return r.spec.family() == f; })
           || std::any_of(config.joins.begin(), config.joins.end(), [&](const auto& j) { return j.spec.family() == f; })
           || std::any_of(config.phyints.begin(), config.phyints.end(),
                          [&](const auto& p) { return p.spec.proxy.covers(f); });
}

} // namespace smcroute
