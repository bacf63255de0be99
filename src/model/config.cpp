#include "smcroute/model/config.hpp"

#include "smcroute/base/decimal.hpp"
#include "smcroute/base/log.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fnmatch.h>
#include <iterator>

namespace smcroute {

size_t ParseResult::error_count() const
{
    return static_cast<size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                             [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

// ---------------------------------------------------------------- in-memory files

namespace {

Error errno_error(int code)
{
    return Error{code, std::strerror(code)};
}

} // namespace

Result<std::string> MemoryFiles::read(const std::string& path)
{
    auto it = files.find(path);
    if (it != files.end())
        return it->second;
    std::string dir = path;
    if (dir.empty() || dir.back() != '/')
        dir += '/';
    auto next = files.lower_bound(dir);
    if (next != files.end() && next->first.compare(0, dir.size(), dir) == 0)
        return errno_error(EISDIR);
    return errno_error(ENOENT);
}

std::vector<std::string> MemoryFiles::glob(const std::string& pattern)
{
    std::vector<std::string> out;
    for (const auto& [path, text] : files)
        if (::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0)
            out.push_back(path);
    return out; // std::map keeps them sorted
}

// ---------------------------------------------------------------- parser

namespace {

struct Word {
    std::string_view text;
    unsigned col = 0; // 1-based
};

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Lexical normalisation: "a/./b//c/../d" -> "a/b/d". Used to find loops and
// to name included files.
std::string normalize(const std::string& path)
{
    bool absolute = !path.empty() && path[0] == '/';
    std::vector<std::string_view> parts;
    std::string_view rest(path);
    while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string_view part = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        if (part.empty() || part == ".")
            continue;
        if (part == "..") {
            if (!parts.empty() && parts.back() != "..")
                parts.pop_back();
            else if (!absolute)
                parts.push_back(part);
            continue;
        }
        parts.push_back(part);
    }
    std::string out = absolute ? "/" : "";
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i)
            out += '/';
        out += parts[i];
    }
    if (out.empty())
        out = ".";
    return out;
}

bool has_glob_chars(std::string_view s)
{
    return s.find_first_of("*?[") != std::string_view::npos;
}

bool is_route_keyword(std::string_view w)
{
    return w == "from" || w == "source" || w == "group" || w == "to";
}

// The keyword words that end the OIF list after 'to'.
bool ends_oif_list(std::string_view w)
{
    return w == "from" || w == "source" || w == "group";
}

// The proxy's words on a phyint line (smcroute.conf(5) PROXY), one row
// each: what kind of value follows, its range (counts as they are, seconds
// in milliseconds) and where it goes.
enum class ProxyWordKind : uint8_t { role, family, flag, filter, version, count, seconds };

struct ProxyWord {
    std::string_view word;
    ProxyWordKind kind;
    uint32_t min = 0, max = 0;
    void (*set)(QuerierSettings&, uint32_t) = nullptr; // version, count, seconds
};

using std::chrono::milliseconds;

constexpr ProxyWord proxy_words[] = {
    {"upstream", ProxyWordKind::role},
    {"downstream", ProxyWordKind::role},
    {"igmp", ProxyWordKind::family},
    {"mld", ProxyWordKind::family},
    {"fast-leave", ProxyWordKind::flag},
    {"allow", ProxyWordKind::filter},
    {"deny", ProxyWordKind::filter},
    {"allow-source", ProxyWordKind::filter},
    {"deny-source", ProxyWordKind::filter},
    {"igmp-version", ProxyWordKind::version, 2, 3,
     [](QuerierSettings& q, uint32_t v) { q.igmp_version = v == 2 ? GroupVersion::v2 : GroupVersion::v3; }},
    {"mld-version", ProxyWordKind::version, 1, 2,
     [](QuerierSettings& q, uint32_t v) { q.mld_version = v == 1 ? GroupVersion::v2 : GroupVersion::v3; }},
    {"robustness", ProxyWordKind::count, 1, 7, [](QuerierSettings& q, uint32_t v) { q.robustness = v; }},
    {"query-interval", ProxyWordKind::seconds, 1000, 31744000,
     [](QuerierSettings& q, uint32_t v) { q.query_interval = milliseconds(v); }},
    {"query-response-interval", ProxyWordKind::seconds, 100, 3174400,
     [](QuerierSettings& q, uint32_t v) { q.query_response_interval = milliseconds(v); }},
    {"last-member-query-interval", ProxyWordKind::seconds, 100, 3174400,
     [](QuerierSettings& q, uint32_t v) { q.last_member_query_interval = milliseconds(v); }},
    {"last-member-query-count", ProxyWordKind::count, 1, 255,
     [](QuerierSettings& q, uint32_t v) { q.last_member_query_count = v; }},
    {"startup-query-interval", ProxyWordKind::seconds, 1000, 31744000,
     [](QuerierSettings& q, uint32_t v) { q.startup_query_interval = milliseconds(v); }},
    {"startup-query-count", ProxyWordKind::count, 1, 255,
     [](QuerierSettings& q, uint32_t v) { q.startup_query_count = v; }},
};
constexpr size_t proxy_word_count = std::size(proxy_words);

const ProxyWord* find_proxy_word(std::string_view w)
{
    for (const auto& p : proxy_words)
        if (p.word == w)
            return &p;
    return nullptr;
}

size_t row_of(const ProxyWord& p)
{
    return static_cast<size_t>(&p - proxy_words);
}

// A version, count or seconds row's range as written: "1-7", "0.1-3174.4".
std::string range_text(const ProxyWord& p)
{
    if (p.kind == ProxyWordKind::seconds)
        return cat(thousandths_text(p.min), '-', thousandths_text(p.max));
    if (p.kind == ProxyWordKind::version)
        return cat(p.min, " or ", p.max);
    return cat(p.min, '-', p.max);
}

// The longest IGMPv2 Max Response Time (8 bits of 1/10 s), for the
// intervals an IGMPv2 querier sends as one.
constexpr uint32_t igmpv2_max_response_ms = 25500;

class Parser {
public:
    Parser(FileSource& files, const ParseOptions& opts, ParseResult& out) : files_(files), opts_(opts), out_(out) {}

    void parse_file(std::string_view text, const std::string& name)
    {
        // At most one route per line (of 32 bytes or more): room for them up
        // front, so the vector does not move them while growing. Bounded, so
        // a huge file of blank lines reserves little.
        if (out_.config.routes.empty()) {
            size_t lines = 1;
            for (const char* p = text.data(), *end = p + text.size();
                 (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))); ++p)
                ++lines;
            out_.config.routes.reserve(std::min({lines, text.size() / 32 + 1, opts_.max_entries}));
        }
        files_read_ = 1;
        bytes_read_ = text.size();
        if (bytes_read_ > opts_.max_bytes) {
            Diagnostic d;
            d.file = name;
            d.message = cat("'", name, "' is larger than the limit of ", size_text(opts_.max_bytes),
                            " per config (includes and repeats counted)");
            out_.diagnostics.push_back(std::move(d));
            return;
        }
        stack_.push_back(normalize(name));
        parse_text(text, name);
        stack_.pop_back();
    }

private:
    struct Line {
        const std::string* file = nullptr;
        unsigned number = 0;
        std::string_view text; // without '\n' and a trailing '\r'
    };
    // An include line whose file is being read.
    struct Include {
        Line at;
        unsigned col = 0;  // of the path
        std::string typed; // the path as written (or the glob's match)
    };

    FileSource& files_;
    const ParseOptions& opts_;
    ParseResult& out_;
    std::vector<std::string> stack_;  // normalized paths of files being read
    std::vector<Include> chain_;      // include lines, outermost first
    std::vector<Word> words_;         // reused for every line
    RouteText route_text_;            // reused for every mroute line
    Line line_;
    // What the config has expanded to so far, includes and repeats counted.
    size_t files_read_ = 0;
    size_t lines_read_ = 0;
    size_t bytes_read_ = 0;
    size_t entries_ = 0;
    uint64_t joins_ = 0;
    size_t errors_ = 0, warnings_ = 0;
    // A limit was reached or the caller interrupted: read nothing more.
    bool stopped_ = false;

    void report(unsigned col, Severity sev, std::string message)
    {
        if (stopped_)
            return;
        if (sev == Severity::warning) {
            if (warnings_ >= opts_.max_warnings)
                return;
            ++warnings_;
        } else if (++errors_ > opts_.max_errors) {
            message = cat("more than ", opts_.max_errors, " errors: not checking further");
            stopped_ = true; // the last one
        }
        Diagnostic d = diagnostic_at(*line_.file, line_.number, col, sev, std::move(message), line_.text);
        for (auto it = chain_.rbegin(); it != chain_.rend(); ++it)
            d.include_chain.push_back(SourceLoc{*it->at.file, it->at.number});
        out_.diagnostics.push_back(std::move(d));
    }
    void error(unsigned col, std::string message) { report(col, Severity::error, std::move(message)); }

    static std::string size_text(size_t bytes)
    {
        return bytes % (size_t{1} << 20) == 0 ? cat(bytes >> 20, " MiB") : cat(bytes, " bytes");
    }

    // The config went over a limit: one error naming the limit, at the
    // include line whose file was being read (saying which line of it went
    // over), or, in the top file, at column col of the current line; the
    // parse stops.
    void over_limit(std::string_view limit, unsigned col = 1)
    {
        std::string what = cat("over the limit of ", limit, " (includes and repeats counted)");
        if (chain_.empty()) {
            error(col, std::move(what));
        } else {
            Include inc = chain_.back();
            bool inside = line_.file != inc.at.file || line_.number != inc.at.number;
            if (inside)
                what += cat(", reached at ", *line_.file, ':', line_.number);
            chain_.pop_back();
            Line saved = line_;
            line_ = inc.at;
            error(inc.col, cat("cannot include ", quote_word(inc.typed), ": ", what));
            line_ = saved;
            chain_.push_back(std::move(inc));
        }
        stopped_ = true;
    }

    // One more phyint, mroute or mgroup line kept; false past the limit
    // (the parse stops).
    bool count_entry()
    {
        if (++entries_ <= opts_.max_entries)
            return true;
        over_limit(cat(opts_.max_entries, " mroute, mgroup and phyint lines per config"), words_[0].col);
        return false;
    }

    // The caller's interrupted() said stop.
    bool interrupted()
    {
        if (opts_.interrupted && opts_.interrupted()) {
            out_.interrupted = true;
            stopped_ = true;
        }
        return stopped_;
    }

    SourceLoc here() const { return SourceLoc{*line_.file, line_.number}; }

    void parse_text(std::string_view text, const std::string& file)
    {
        unsigned number = 0;
        size_t pos = 0;
        while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            size_t end = nl == std::string_view::npos ? text.size() : nl;
            std::string_view l = text.substr(pos, end - pos);
            pos = nl == std::string_view::npos ? text.size() : nl + 1;
            ++number;
            if (!l.empty() && l.back() == '\r')
                l.remove_suffix(1);
            line_ = Line{&file, number, l};
            if (++lines_read_ > opts_.max_lines) {
                over_limit(cat(opts_.max_lines, " lines per config"));
                return;
            }
            if (opts_.interrupt_every && lines_read_ % opts_.interrupt_every == 0 && interrupted())
                return;
            parse_line();
            if (stopped_)
                return;
        }
    }

    void parse_line()
    {
        std::string_view l = line_.text;
        if (auto nul = l.find('\0'); nul != std::string_view::npos) {
            error(static_cast<unsigned>(nul + 1), "NUL byte in line");
            return;
        }
        if (auto hash = l.find('#'); hash != std::string_view::npos)
            l = l.substr(0, hash);
        words_.clear();
        size_t i = 0;
        while (i < l.size()) {
            while (i < l.size() && (l[i] == ' ' || l[i] == '\t'))
                ++i;
            size_t start = i;
            while (i < l.size() && l[i] != ' ' && l[i] != '\t')
                ++i;
            if (i > start)
                words_.push_back(Word{l.substr(start, i - start), static_cast<unsigned>(start + 1)});
        }
        if (words_.empty())
            return;

        size_t first_diag = out_.diagnostics.size();
        std::string_view directive = words_[0].text;
        if (directive == "phyint")
            parse_phyint();
        else if (directive == "mroute")
            parse_route(true);
        else if (directive == "mgroup")
            parse_route(false);
        else if (directive == "ssmgroup")
            parse_ssmgroup();
        else if (directive == "include") {
            parse_include(); // diagnostics already in order, nested files follow
            return;
        } else
            error(words_[0].col,
                  cat("unknown directive ", quote_word(directive),
                      " (expected phyint, mgroup, mroute, ssmgroup or include)"));

        // One line's findings in column order.
        std::stable_sort(out_.diagnostics.begin() + static_cast<std::ptrdiff_t>(first_diag), out_.diagnostics.end(),
                         [](const Diagnostic& a, const Diagnostic& b) { return a.col < b.col; });
    }

    void parse_phyint()
    {
        bool ok = true;
        if (words_.size() < 2) {
            error(words_[0].col, "missing interface name after 'phyint'");
            return;
        }
        PhyintSpec spec;
        auto name = IfName::parse(words_[1].text);
        if (name)
            spec.name = *name;
        else {
            error(words_[1].col, name.error().message);
            ok = false;
        }
        const Word* enable_word = nullptr;
        bool seen_mrdisc = false, seen_ttl = false;
        ProxyWords proxy;
        for (size_t i = 2; i < words_.size(); ++i) {
            const Word& w = words_[i];
            if (w.text == "enable" || w.text == "disable") {
                if (enable_word) {
                    error(w.col, enable_word->text == w.text
                                     ? cat("keyword '", w.text, "' repeated in phyint")
                                     : cat("keyword '", w.text, "' conflicts with '", enable_word->text, "'"));
                    ok = false;
                }
                enable_word = &w;
                spec.enable = w.text == "enable";
            } else if (w.text == "mrdisc") {
                if (seen_mrdisc) {
                    error(w.col, "keyword 'mrdisc' repeated in phyint");
                    ok = false;
                }
                seen_mrdisc = true;
                spec.mrdisc = true;
            } else if (w.text == "ttl-threshold") {
                if (seen_ttl) {
                    error(w.col, "keyword 'ttl-threshold' repeated in phyint");
                    ok = false;
                }
                seen_ttl = true;
                if (i + 1 >= words_.size()) {
                    error(w.col, "missing value after 'ttl-threshold' (expected 1-255)");
                    ok = false;
                    continue;
                }
                const Word& v = words_[++i];
                unsigned ttl = 0;
                auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), ttl);
                if (ec != std::errc() || end != v.text.data() + v.text.size()) {
                    error(v.col, cat("invalid ttl-threshold ", quote_word(v.text), " (expected 1-255)"));
                    ok = false;
                } else if (ttl < 1 || ttl > 255) {
                    error(v.col, cat("ttl-threshold ", v.text, " out of range 1-255"));
                    ok = false;
                } else {
                    spec.ttl_threshold = static_cast<uint8_t>(ttl);
                }
            } else if (const ProxyWord* pw = find_proxy_word(w.text)) {
                ok = take_proxy_word(*pw, i, proxy, spec.proxy) && ok;
            } else {
                error(w.col, cat("unknown keyword ", quote_word(w.text),
                                 " in phyint (expected enable, disable, mrdisc, ttl-threshold, upstream or "
                                 "downstream; see smcroute.conf(5))"));
                ok = false;
            }
        }
        ok = finish_proxy(spec, enable_word, proxy) && ok;
        if (ok && count_entry())
            out_.config.phyints.push_back(Located<PhyintSpec>{spec, here()});
    }

    // Where a phyint line's proxy words are: the word of each table row
    // (the first, when repeated) and its value word.
    struct ProxyWords {
        const Word* word[proxy_word_count] = {};
        const Word* value[proxy_word_count] = {};
        const Word* role = nullptr;
        const Word* family = nullptr;
        std::vector<const Word*> downstream_only; // querier and filter words, in order
        std::vector<const Word*> filter_words;    // the word of each rule kept, as spec.filter.rules
    };

    // The proxy word p at words_[i] and its value (i moves past it) into
    // spec; false after an error.
    bool take_proxy_word(const ProxyWord& p, size_t& i, ProxyWords& pw, ProxySpec& spec)
    {
        const Word& w = words_[i];
        const size_t row = row_of(p);
        bool ok = true;
        // The one-of-two words: upstream/downstream, igmp/mld.
        if (p.kind == ProxyWordKind::role || p.kind == ProxyWordKind::family) {
            const Word*& first = p.kind == ProxyWordKind::role ? pw.role : pw.family;
            if (first) {
                error(w.col, first->text == w.text
                                 ? cat("keyword '", w.text, "' repeated in phyint")
                                 : cat("keyword '", w.text, "' conflicts with '", first->text, "'",
                                       p.kind == ProxyWordKind::family ? " (leave both out for both)" : ""));
                return false;
            }
            first = &w;
            if (p.kind == ProxyWordKind::role)
                spec.role = w.text == "upstream" ? ProxyRole::upstream : ProxyRole::downstream;
            else
                (w.text == "igmp" ? spec.mld : spec.igmp) = false;
            return true;
        }
        pw.downstream_only.push_back(&w);
        if (p.kind != ProxyWordKind::filter) {
            if (pw.word[row]) {
                error(w.col, cat("keyword '", w.text, "' repeated in phyint"));
                ok = false;
            } else {
                pw.word[row] = &w;
            }
        }
        if (p.kind == ProxyWordKind::flag) {
            spec.querier.fast_leave = true;
            return ok;
        }
        if (i + 1 >= words_.size()) {
            error(w.col, p.kind == ProxyWordKind::filter
                             ? cat("missing prefix after '", w.text, "'")
                             : cat("missing value after '", w.text, "' (expected ", range_text(p), ")"));
            return false;
        }
        const Word& v = words_[++i];
        if (pw.word[row] == &w)
            pw.value[row] = &v;
        if (p.kind == ProxyWordKind::filter) {
            const size_t kept = spec.filter.rules.size();
            ok = take_filter(w, v, spec.filter) && ok;
            if (spec.filter.rules.size() > kept)
                pw.filter_words.push_back(&w);
            return ok;
        }
        uint64_t n = 0;
        bool parsed = false;
        if (p.kind == ProxyWordKind::seconds) {
            auto ms = parse_thousandths(v.text);
            parsed = ms.has_value();
            n = ms.value_or(0);
        } else {
            auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
            parsed = ec == std::errc() && end == v.text.data() + v.text.size();
        }
        if (!parsed) {
            error(v.col, cat("invalid ", w.text, ' ', quote_word(v.text), " (expected ",
                             p.kind == ProxyWordKind::seconds ? "seconds " : "", range_text(p),
                             p.kind == ProxyWordKind::seconds ? ", at most 3 decimals)" : ")"));
            return false;
        }
        if (n < p.min || n > p.max) {
            error(v.col, p.kind == ProxyWordKind::version
                             ? cat("unknown ", w.text, ' ', v.text, " (expected ", range_text(p), ")")
                             : cat(w.text, ' ', v.text, " out of range ", range_text(p)));
            return false;
        }
        if (ok)
            p.set(spec.querier, static_cast<uint32_t>(n));
        return ok;
    }

    // allow/deny/allow-source/deny-source w with the prefix v into filter;
    // false after an error.
    bool take_filter(const Word& w, const Word& v, GroupFilter& filter)
    {
        const std::string_view name = words_[1].text;
        auto prefix = Prefix::parse(v.text);
        if (!prefix) {
            error(v.col, cat(w.text, ": ", prefix.error().message));
            return false;
        }
        ProxyFilterRule rule;
        rule.allow = w.text.substr(0, 5) == "allow";
        rule.source = w.text.size() > 6 && w.text.substr(w.text.size() - 6) == "source";
        rule.prefix = *prefix;
        const unsigned multicast_len = prefix->family() == Family::inet ? 4 : 8;
        if (!rule.source && !(prefix->addr.is_multicast() && prefix->len >= multicast_len)) {
            error(v.col, cat("phyint ", name, ": ", w.text, ' ', prefix->str(), " is not a multicast prefix"));
            return false;
        }
        if (rule.source && prefix->addr.is_multicast()) {
            error(v.col, cat("phyint ", name, ": ", w.text, ' ', prefix->str(), " is not a unicast prefix"));
            return false;
        }
        for (const auto& r : filter.rules) {
            if (r.source != rule.source || r.prefix != rule.prefix)
                continue;
            if (r.allow == rule.allow) {
                report(v.col, Severity::warning, cat(w.text, ' ', prefix->str(), " repeated on this line"));
                return true;
            }
            error(v.col, cat(w.text, ' ', prefix->str(), " conflicts with ", r.allow ? "allow" : "deny",
                             rule.source ? "-source " : " ", prefix->str(), " on this line"));
            return false;
        }
        filter.rules.push_back(rule);
        return true;
    }

    // The rules of a phyint line's proxy words taken together; false after
    // an error.
    bool finish_proxy(PhyintSpec& spec, const Word* enable_word, const ProxyWords& pw)
    {
        bool ok = true;
        ProxySpec& proxy = spec.proxy;
        const std::string_view name = words_[1].text;
        if (!pw.role) {
            if (pw.family) {
                error(pw.family->col, cat(pw.family->text, " needs upstream or downstream"));
                ok = false;
            }
            for (const Word* w : pw.downstream_only) {
                error(w->col, cat(w->text, " needs downstream"));
                ok = false;
            }
            return ok;
        }
        if (enable_word && enable_word->text == "disable") {
            error(pw.role->col, cat("keyword '", pw.role->text, "' conflicts with 'disable'"));
            ok = false;
        }
        if (proxy.role == ProxyRole::upstream) {
            if (spec.name.is_wildcard()) {
                error(pw.role->col, cat("phyint ", name, ": an upstream cannot be a wildcard"));
                ok = false;
            }
            for (const Word* w : pw.downstream_only) {
                error(w->col, cat(w->text, " needs downstream (this line is an upstream)"));
                ok = false;
            }
            return ok;
        }
        // A version word for the family the line leaves out.
        const Word* igmp_version = pw.word[row_of(*find_proxy_word("igmp-version"))];
        const Word* mld_version = pw.word[row_of(*find_proxy_word("mld-version"))];
        if (igmp_version && !proxy.igmp) {
            error(igmp_version->col, "igmp-version on a line that says mld (IPv6 only)");
            ok = false;
        }
        if (mld_version && !proxy.mld) {
            error(mld_version->col, "mld-version on a line that says igmp (IPv4 only)");
            ok = false;
        }
        for (size_t k = 0; k < proxy.filter.rules.size() && k < pw.filter_words.size(); ++k) {
            const Prefix& p = proxy.filter.rules[k].prefix;
            if (p.family() == Family::inet ? proxy.igmp : proxy.mld)
                continue;
            const Word* w = pw.filter_words[k];
            error(w->col, cat("phyint ", name, ": ", w->text, ' ', p.str(), " is ", family_name(p.family()),
                              ", but the line says ", proxy.igmp ? "igmp" : "mld"));
            ok = false;
        }
        if (!ok)
            return false;
        // The querier's values with one another.
        const QuerierSettings& q = proxy.querier;
        const size_t qri_row = row_of(*find_proxy_word("query-response-interval"));
        const size_t qi_row = row_of(*find_proxy_word("query-interval"));
        const size_t lmqi_row = row_of(*find_proxy_word("last-member-query-interval"));
        auto col_of_row = [&](size_t a, size_t b) {
            const Word* w = pw.value[a] ? pw.value[a] : pw.value[b];
            return w ? w->col : pw.role->col;
        };
        const auto qri = static_cast<uint64_t>(q.query_response_interval.count());
        const auto qi = static_cast<uint64_t>(q.query_interval.count());
        if (qri >= qi) {
            error(col_of_row(qri_row, qi_row),
                  cat("query-response-interval ", thousandths_text(qri), " must be less than query-interval ",
                      thousandths_text(qi)));
            ok = false;
        }
        if (proxy.igmp && q.igmp_version == GroupVersion::v2) {
            for (size_t row : {qri_row, lmqi_row}) {
                uint64_t ms = static_cast<uint64_t>(
                    (row == qri_row ? q.query_response_interval : q.last_member_query_interval).count());
                if (ms <= igmpv2_max_response_ms)
                    continue;
                error(col_of_row(row, row), cat(proxy_words[row].word, ' ', thousandths_text(ms),
                                                " is over 25.5 with igmp-version 2 (IGMPv2 Max Resp Time)"));
                ok = false;
            }
        }
        return ok;
    }

    // Where an mroute or mgroup line's keywords and their values are. A
    // value is nullptr when its keyword is absent or has no value; the OIFs
    // after 'to' are words_[oif_begin, oif_end).
    struct RouteWords {
        const char* what = "mroute"; // the directive, for messages
        bool is_route = true;        // mroute (else mgroup)
        const Word* from = nullptr;
        const Word* source = nullptr;
        const Word* group = nullptr;
        const Word* to = nullptr;
        const Word* from_val = nullptr;
        const Word* source_val = nullptr;
        const Word* group_val = nullptr;
        size_t oif_begin = 0, oif_end = 0;
    };

    void parse_route(bool is_route)
    {
        RouteWords rw;
        rw.what = is_route ? "mroute" : "mgroup";
        rw.is_route = is_route;
        bool ok = scan_route_words(rw);
        ok = require_route_keywords(rw) && ok;
        if (is_route)
            keep_route(rw, ok);
        else
            keep_join(rw, ok);
    }

    // SMCRoute 2.x's 'ssmgroup from IF group G source S': an mgroup whose
    // source is required, kept as that mgroup, with a warning.
    void parse_ssmgroup()
    {
        RouteWords rw;
        rw.what = "ssmgroup";
        rw.is_route = false;
        report(words_[0].col, Severity::warning,
               "'ssmgroup' is deprecated (SMCRoute 2.x): write 'mgroup from IIF source SOURCE group GROUP'");
        bool ok = scan_route_words(rw);
        ok = require_route_keywords(rw) && ok;
        if (!rw.source) {
            error(words_[0].col, "missing 'source' in ssmgroup");
            ok = false;
        }
        keep_join(rw, ok);
    }

    // The words after the directive, into rw; false after any error.
    bool scan_route_words(RouteWords& rw)
    {
        bool ok = true;
        for (size_t i = 1; i < words_.size(); ++i) {
            std::string_view w = words_[i].text;
            if (w == "from") {
                ok = take_value(i, rw.from, rw.from_val, "inbound interface", rw.what) && ok;
            } else if (w == "source") {
                ok = take_value(i, rw.source, rw.source_val, "address", rw.what) && ok;
            } else if (w == "group") {
                ok = take_value(i, rw.group, rw.group_val, "group address", rw.what) && ok;
            } else if (w == "to" && rw.is_route) {
                ok = take_oifs(i, rw) && ok;
            } else {
                error(words_[i].col, cat("unknown keyword ", quote_word(w), " in ", rw.what,
                                         rw.is_route ? " (expected from, source, group or to)"
                                                     : " (expected from, source or group)"));
                ok = false;
                // Skip the unknown keyword's value, so 'sorce 1.2.3.4' is one error.
                if (i + 1 < words_.size() && !is_route_keyword(words_[i + 1].text))
                    ++i;
            }
        }
        return ok;
    }

    // The keyword at words_[i] and its value (i moves past it), unless the
    // keyword is repeated; false after an error.
    bool take_value(size_t& i, const Word*& kw, const Word*& val, const char* missing, const char* what)
    {
        bool ok = true;
        const Word& w = words_[i];
        if (kw) {
            error(w.col, cat("keyword '", w.text, "' repeated in ", what));
            ok = false;
        } else {
            kw = &w;
        }
        if (i + 1 < words_.size() && !is_route_keyword(words_[i + 1].text)) {
            ++i;
            if (kw == &w)
                val = &words_[i];
        } else {
            error(w.col, cat("missing ", missing, " after '", w.text, "'"));
            ok = false;
        }
        return ok;
    }

    // 'to' at words_[i] and the OIFs after it, up to the next keyword (i
    // moves to the last); false after an error.
    bool take_oifs(size_t& i, RouteWords& rw)
    {
        bool ok = true;
        bool repeated = rw.to != nullptr;
        if (repeated) {
            error(words_[i].col, cat("keyword 'to' repeated in ", rw.what));
            ok = false;
        } else {
            rw.to = &words_[i];
        }
        size_t b = i + 1, e = b;
        while (e < words_.size() && !ends_oif_list(words_[e].text))
            ++e;
        if (e == b) {
            error(words_[i].col, "missing outbound interface after 'to'");
            ok = false;
        }
        if (!repeated) {
            rw.oif_begin = b;
            rw.oif_end = e;
        }
        i = e - 1;
        return ok;
    }

    // Errors at the directive for each keyword the line lacks; false if any.
    bool require_route_keywords(const RouteWords& rw)
    {
        bool ok = true;
        unsigned directive_col = words_[0].col;
        if (!rw.from) {
            error(directive_col, cat("missing 'from' in ", rw.what));
            ok = false;
        }
        if (!rw.group) {
            error(directive_col, cat("missing 'group' in ", rw.what));
            ok = false;
        }
        return ok;
    }

    static std::string_view text_of(const Word* w) { return w ? w->text : std::string_view(); }

    // Where an issue about argument `a` points; 0 when that argument is absent.
    unsigned col_of(const RouteWords& rw, size_t a) const
    {
        if (a == arg::iif)
            return rw.from_val ? rw.from_val->col : 0;
        if (a == arg::source)
            return rw.source_val ? rw.source_val->col : 0;
        if (a == arg::group)
            return rw.group_val ? rw.group_val->col : 0;
        size_t k = rw.oif_begin + (a - arg::first_oif);
        return k < rw.oif_end ? words_[k].col : 0;
    }

    // The validator's findings at their columns; false if one is an error.
    bool report_issues(const RouteWords& rw, const std::vector<ArgIssue>& issues)
    {
        bool ok = true;
        for (const auto& issue : issues) {
            unsigned col = col_of(rw, issue.arg);
            if (col == 0)
                continue; // already reported as a missing keyword or value
            report(col, issue.severity, issue.message);
            if (issue.severity == Severity::error)
                ok = false;
        }
        return ok;
    }

    // An mroute line's values validated; the route kept when all is well.
    void keep_route(const RouteWords& rw, bool ok)
    {
        RouteText& text = route_text_;
        text.iif = text_of(rw.from_val);
        text.source = text_of(rw.source_val);
        text.group = text_of(rw.group_val);
        text.oifs.clear();
        for (size_t k = rw.oif_begin; k < rw.oif_end; ++k)
            text.oifs.push_back(words_[k].text);
        auto checked = check_route(text);
        ok = report_issues(rw, checked.issues) && ok;
        if (ok && checked.value && count_entry())
            out_.config.routes.push_back(Located<RouteSpec>{std::move(*checked.value), here()});
    }

    // An mgroup line's values validated; the join kept when all is well and
    // its expansion stays within the limit.
    void keep_join(const RouteWords& rw, bool ok)
    {
        JoinText text{text_of(rw.from_val), text_of(rw.source_val), text_of(rw.group_val)};
        auto checked = check_join(text, opts_.max_join_expansion);
        ok = report_issues(rw, checked.issues) && ok;
        if (ok && checked.value && count_entry()) {
            joins_ += checked.value->expansion();
            if (joins_ > opts_.max_joins) {
                over_limit(cat(opts_.max_joins, " joins per config, ranges expanded"), words_[0].col);
                return;
            }
            out_.config.joins.push_back(Located<JoinSpec>{std::move(*checked.value), here()});
        }
    }

    void parse_include()
    {
        if (words_.size() < 2) {
            error(words_[0].col, "missing path after 'include'");
            return;
        }
        if (words_.size() > 2) {
            error(words_[2].col, cat("unexpected ", quote_word(words_[2].text), " after the include path"));
            return;
        }
        // Copies: each nested file reuses words_, so no reference into it may
        // outlive the first include_one().
        const unsigned col = words_[1].col;
        const std::string typed(words_[1].text);
        std::string path = typed[0] == '/' ? typed : dir_of(*line_.file) + typed;
        if (has_glob_chars(typed)) {
            auto matches = files_.glob(path);
            if (matches.size() > opts_.max_include_matches) {
                error(col, cat("cannot include ", quote_word(typed), ": ", matches.size(), " files match, over the limit of ",
                               opts_.max_include_matches, " files per include"));
                return;
            }
            for (const auto& match : matches) {
                include_one(match, match, col);
                if (stopped_)
                    return;
            }
        } else {
            include_one(path, typed, col);
        }
    }

    // The files of a directory named by an include line: DIR/*.conf, sorted.
    void include_dir(const std::string& dir, const std::string& typed, unsigned col)
    {
        auto matches = files_.glob(dir + "/*.conf");
        if (matches.size() > opts_.max_include_matches) {
            error(col, cat("cannot include ", quote_word(typed), ": ", matches.size(), " files match, over the limit of ",
                           opts_.max_include_matches, " files per include"));
            return;
        }
        for (const auto& match : matches) {
            include_one(match, match, col, true);
            if (stopped_)
                return;
        }
    }

    // in_dir: path is a match of include_dir's, itself no directory to enter.
    void include_one(const std::string& path, const std::string& typed, unsigned col, bool in_dir = false)
    {
        std::string norm = normalize(path);
        if (auto it = std::find(stack_.begin(), stack_.end(), norm); it != stack_.end()) {
            if (it + 1 == stack_.end()) {
                error(col, cat("'", norm, "' includes itself"));
            } else {
                std::string chain;
                for (; it != stack_.end(); ++it)
                    chain += cat(*it, " -> ");
                error(col, cat("include loop: ", chain, norm));
            }
            return;
        }
        if (stack_.size() > opts_.max_include_depth) {
            error(col, cat("cannot include '", typed, "': includes nested more than ", opts_.max_include_depth,
                           " levels deep"));
            return;
        }
        if (interrupted())
            return;
        // The nested file overwrites line_, so save it for the lines after.
        Line saved = line_;
        chain_.push_back(Include{line_, col, typed});
        if (++files_read_ > opts_.max_files) {
            over_limit(cat(opts_.max_files, " files per config"));
            chain_.pop_back();
            return;
        }
        auto text = files_.read(norm);
        if (!text && text.error().code == EISDIR && !in_dir) {
            // 'include DIR': its *.conf files, sorted, as though globbed.
            chain_.pop_back();
            include_dir(norm, typed, col);
            return;
        }
        if (!text && text.error().code == ENOENT) {
            // As in SMCRoute 2.x: a missing file is skipped.
            chain_.pop_back();
            report(col, Severity::warning, cat("include ", quote_word(typed), " skipped: ", text.error().message));
            return;
        }
        if (!text) {
            chain_.pop_back();
            error(col, cat("cannot read include '", typed, "': ", text.error().message));
            return;
        }
        bytes_read_ += text->size();
        if (bytes_read_ > opts_.max_bytes) {
            over_limit(cat(size_text(opts_.max_bytes), " per config"));
            chain_.pop_back();
            return;
        }
        stack_.push_back(norm);
        parse_text(*text, norm);
        stack_.pop_back();
        chain_.pop_back();
        line_ = saved;
    }
};

} // namespace

ParseResult parse_config_text(std::string_view text, const std::string& name, FileSource& files,
                              const ParseOptions& opts)
{
    ParseResult out;
    Parser parser(files, opts, out);
    parser.parse_file(text, name);
    return out;
}

ParseResult parse_config_file(const std::string& path, FileSource& files, const ParseOptions& opts)
{
    auto text = files.read(path);
    if (!text) {
        ParseResult out;
        Diagnostic d;
        d.file = path;
        d.message = cat("cannot read '", path, "': ", text.error().message);
        out.diagnostics.push_back(std::move(d));
        return out;
    }
    return parse_config_text(*text, path, files, opts);
}

} // namespace smcroute
