#include "smcroute/model/route_spec.hpp"

#include "smcroute/base/text.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace smcroute {

namespace {

// Number of address bits a prefix leaves free (log2 of the addresses it covers).
unsigned free_bits(const Prefix& p)
{
    return family_bits(p.family()) - p.len;
}

uint64_t saturating_pow2(unsigned bits)
{
    return bits >= 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits);
}

// "65536", or "2^112" when it does not fit 64 bits.
std::string pow2_str(unsigned bits)
{
    if (bits >= 64)
        return cat("2^", bits);
    return cat(uint64_t{1} << bits);
}

bool is_any_source_text(std::string_view text)
{
    return text.empty() || text == "*";
}

// Group: a multicast prefix, the whole range multicast.
std::optional<Prefix> check_group(std::string_view text, std::vector<ArgIssue>& issues)
{
    auto p = Prefix::parse(text);
    if (!p) {
        issues.push_back({arg::group, Severity::error, p.error().message});
        return std::nullopt;
    }
    const Prefix& g = *p;
    if (!g.addr.is_multicast()) {
        issues.push_back({arg::group, Severity::error, cat("group ", text, " is not a multicast address")});
        return std::nullopt;
    }
    unsigned min_len = g.addr.is_v4() ? 4 : 8;
    if (g.len < min_len) {
        issues.push_back({arg::group, Severity::error,
                          cat("group range ", text, " is not entirely multicast (",
                              g.addr.is_v4() ? "224.0.0.0/4" : "ff00::/8", ")")});
        return std::nullopt;
    }
    return g;
}

// Source: empty/"*"/unspecified means any (returns a len-0 prefix of family
// `fam` if known, else of IPv4 and the caller fixes the family).
struct SourceResult {
    bool ok = false;
    bool any = false;
    Prefix prefix;
};

SourceResult check_source(std::string_view text, std::vector<ArgIssue>& issues)
{
    SourceResult r;
    if (is_any_source_text(text)) {
        r.ok = r.any = true;
        return r;
    }
    auto p = Prefix::parse(text);
    if (!p) {
        issues.push_back({arg::source, Severity::error, p.error().message});
        return r;
    }
    if (p->len == 0 || (p->addr.is_unspecified() && p->is_host())) {
        r.ok = r.any = true;
        r.prefix = Prefix{IpAddr::any(p->family()), 0};
        return r;
    }
    if (p->addr.is_multicast()) {
        issues.push_back({arg::source, Severity::error,
                          cat("source ", text, " is a multicast address; a source must be the unicast address of a sender")});
        return r;
    }
    if (p->addr.is_broadcast()) {
        issues.push_back({arg::source, Severity::error,
                          cat("source ", text, " is the broadcast address; a source must be the unicast address of a sender")});
        return r;
    }
    r.ok = true;
    r.prefix = *p;
    return r;
}

void check_families(const JoinText& text, const SourceResult& src, const std::optional<Prefix>& group,
                    bool& ok, std::vector<ArgIssue>& issues)
{
    if (!src.ok || !group)
        return;
    // An "any" source written as 0.0.0.0 or :: still has a family.
    bool typed_family = !is_any_source_text(text.source);
    if (typed_family && src.prefix.family() != group->family()) {
        issues.push_back({arg::source, Severity::error,
                          cat("source ", text.source, " is ", family_name(src.prefix.family()), " but group ",
                              text.group, " is ", family_name(group->family()))});
        ok = false;
    }
}

// What routes and joins validate alike: IIF, SOURCE, GROUP and their families.
struct CommonFields {
    std::optional<IfName> iif;
    SourceResult src;
    std::optional<Prefix> group;
    bool ok = true;
};

CommonFields check_common(const JoinText& text, std::vector<ArgIssue>& issues)
{
    CommonFields c;
    if (auto iif = IfName::parse(text.iif))
        c.iif = *iif;
    else {
        issues.push_back({arg::iif, Severity::error, iif.error().message});
        c.ok = false;
    }
    c.src = check_source(text.source, issues);
    c.ok = c.ok && c.src.ok;
    c.group = check_group(text.group, issues);
    c.ok = c.ok && c.group.has_value();
    check_families(text, c.src, c.group, c.ok, issues);
    return c;
}

std::string key(const std::optional<Prefix>& source, const Prefix& group)
{
    return cat('(', source ? source->str() : std::string("*"), ", ", group.str(), ')');
}

} // namespace

std::string RouteSpec::key_str() const
{
    return key(any_source() ? std::nullopt : std::optional<Prefix>(source), group);
}

std::string JoinSpec::key_str() const
{
    return key(source, group);
}

uint64_t JoinSpec::expansion() const
{
    unsigned bits = free_bits(group) + (source ? free_bits(*source) : 0);
    return saturating_pow2(bits);
}

Checked<RouteSpec> check_route(const RouteText& text)
{
    Checked<RouteSpec> out;
    auto& issues = out.issues;
    auto [iif, src, group, ok] = check_common(JoinText{text.iif, text.source, text.group}, issues);

    std::vector<IfName> oifs;
    oifs.reserve(std::min(text.oifs.size(), max_oifs));
    bool too_many = false;
    for (size_t i = 0; i < text.oifs.size(); ++i) {
        auto oif = IfName::parse(text.oifs[i]);
        if (!oif) {
            issues.push_back({arg::first_oif + i, Severity::error, oif.error().message});
            ok = false;
            continue;
        }
        if (std::find(oifs.begin(), oifs.end(), *oif) != oifs.end())
            continue; // duplicates are dropped silently
        if (oifs.size() == max_oifs) {
            if (!too_many) {
                // Count the distinct names given, to say how many there are.
                std::set<std::string_view> extra;
                for (size_t j = i; j < text.oifs.size(); ++j) {
                    auto o = IfName::parse(text.oifs[j]);
                    if (o && std::find(oifs.begin(), oifs.end(), *o) == oifs.end())
                        extra.insert(text.oifs[j]);
                }
                size_t distinct = oifs.size() + extra.size();
                issues.push_back({arg::first_oif + i, Severity::error,
                                  cat("too many outbound interfaces: ", distinct, " given, at most ", max_oifs)});
                too_many = true;
                ok = false;
            }
            continue;
        }
        if (iif && !iif->is_wildcard() && *oif == *iif)
            issues.push_back({arg::first_oif + i, Severity::warning,
                              cat("outbound interface ", oif->view(), " is also the inbound interface: traffic may loop")});
        oifs.push_back(*oif);
    }
    if (group && group->addr.is_link_local_multicast()
        && group->len >= (group->addr.is_v4() ? 24u : 16u)) {
        issues.push_back({arg::group, Severity::warning,
                          cat("group ", text.group, " is link-local (", group->addr.is_v4() ? "224.0.0.0/24" : "ff02::/16",
                              "): the kernel never forwards it")});
    }

    if (!ok)
        return out;
    RouteSpec r;
    r.iif = *iif;
    r.group = *group;
    r.source = src.any ? Prefix{IpAddr::any(group->family()), 0} : src.prefix;
    r.oifs = std::move(oifs);
    out.value = std::move(r);
    return out;
}

Checked<JoinSpec> check_join(const JoinText& text, size_t max_expansion)
{
    Checked<JoinSpec> out;
    auto& issues = out.issues;
    auto [iif, src, group, ok] = check_common(text, issues);

    if (!ok)
        return out;

    JoinSpec j;
    j.iif = *iif;
    j.group = *group;
    if (!src.any)
        j.source = src.prefix;

    unsigned gbits = free_bits(j.group);
    unsigned sbits = j.source ? free_bits(*j.source) : 0;
    if (j.expansion() > max_expansion) {
        std::string limit = cat("more than the limit of ", max_expansion);
        if (sbits == 0)
            issues.push_back({arg::group, Severity::error,
                              cat("group range ", text.group, " expands to ", pow2_str(gbits), " joins, ", limit)});
        else if (gbits == 0)
            issues.push_back({arg::source, Severity::error,
                              cat("source range ", text.source, " expands to ", pow2_str(sbits), " joins, ", limit)});
        else
            issues.push_back({arg::group, Severity::error,
                              cat("source range ", text.source, " and group range ", text.group, " expand to ",
                                  pow2_str(gbits + sbits), " joins, ", limit)});
        return out;
    }
    out.value = std::move(j);
    return out;
}

namespace {

bool looks_like_address(std::string_view w)
{
    if (w == "*")
        return true;
    return IpAddr::parse(w.substr(0, w.find('/'))).has_value();
}

} // namespace

RouteText split_route_words(const std::vector<std::string>& words)
{
    RouteText t;
    if (words.empty())
        return t;
    t.iif = words[0];
    size_t next = 1;
    if (words.size() >= 3 && looks_like_address(words[2])) {
        t.source = words[1];
        t.group = words[2];
        next = 3;
    } else if (words.size() >= 2) {
        t.group = words[1];
        next = 2;
    }
    for (size_t i = next; i < words.size(); ++i)
        t.oifs.push_back(words[i]);
    return t;
}

} // namespace smcroute

namespace smcroute {

const PhyintSpec* proxy_phyint(const std::vector<PhyintSpec>& phyints, std::string_view ifname, Family f)
{
    const PhyintSpec* best = nullptr;
    for (const auto& p : phyints) {
        if (!p.proxy.covers(f) || !p.name.matches(ifname))
            continue;
        if (!p.name.is_wildcard())
            return &p; // an exact name: nothing is more specific
        if (!best || p.name.view().size() > best->name.view().size())
            best = &p;
    }
    return best;
}

} // namespace smcroute
