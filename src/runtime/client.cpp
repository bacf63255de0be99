#include "smcroute/runtime/client.hpp"

#include "smcroute/model/route_spec.hpp"
#include "smcroute/model/diagnose.hpp"
#include "smcroute/runtime/ipc_client.hpp"
#include "smcroute/os/runtime_files.hpp"
#include "smcroute/os/system_probe.hpp"
#include "smcroute/base/table.hpp"
#include "smcroute/base/words.hpp"

#include <cassert>
#include <charconv>
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <deque>
#include <optional>
#include <poll.h>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace smcroute {

namespace {

constexpr std::chrono::milliseconds default_timeout{5000};

// How long the client waits to connect and for each answer: the
// environment's SMCROUTE_CLIENT_TIMEOUT (whole seconds, 1 to 3600) or 5 s.
// An unset variable is the default; anything else invalid is an error.
Result<std::chrono::milliseconds> client_timeout()
{
    const char* text = std::getenv("SMCROUTE_CLIENT_TIMEOUT");
    if (!text)
        return default_timeout;
    const std::string_view v(text);
    unsigned seconds = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec != std::errc{} || end != v.data() + v.size() || seconds < 1 || seconds > 3600)
        return Error{EINVAL, cat("SMCROUTE_CLIENT_TIMEOUT must be whole seconds from 1 to 3600, not '", v, "'")};
    return std::chrono::milliseconds(seconds * 1000ull);
}

// A stream the client writes to, and whether it is a terminal: a line of
// text bound for one is escaped (terminal_escape()), since rows and messages
// come from the daemon (interface names may hold control bytes) or from
// whatever answers on its socket, and diagnostics quote config files.
class Output {
public:
    explicit Output(std::FILE* f) : f_(f), tty_(::isatty(::fileno(f)) == 1) {}
    std::FILE* file() const { return f_; }
    bool tty() const { return tty_; }

private:
    std::FILE* f_;
    bool tty_;
};

// Text as it is: JSON structure and the built-in help.
void put(const Output& o, std::string_view text)
{
    std::fwrite(text.data(), 1, text.size(), o.file());
}

// One line; escaped for a terminal (JSON has its own escapes, which stay).
void put_line(const Output& o, std::string_view text)
{
    if (o.tty() && needs_terminal_escape(text))
        put(o, terminal_escape(text));
    else
        put(o, text);
    std::fputc('\n', o.file());
}


// The socket a daemon started with -p keeps in its runtime directory, tried
// when the default socket does not exist. Used only when that directory is
// fit (root's, or this user's, and nobody else may write it): one left to
// the -p user by an older smcroute could hold that user's impostor.
// nullopt with `why` empty when there is no such directory.
std::optional<std::string> runtime_socket(const std::string& ident, std::string& why)
{
    why.clear();
    const std::string dir = runtime_dir(ident);
    auto checked = FileDir::open(dir);
    if (!checked) {
        if (checked.error().code == 0)
            why = cat("not using ", dir, "/", ident, ".sock: ", checked.error().message,
                      " (an older smcroute left it so; restarting the daemon takes it back)");
        return std::nullopt;
    }
    return cat(dir, "/", ident, ".sock");
}

// ------------------------------------------------------------------ check

std::string plural(size_t n, std::string_view word)
{
    return cat(n, ' ', word, n == 1 ? "" : "s");
}

// The daemon answers a version request on its socket (or in its runtime
// directory, where a daemon started with -p USER keeps it).
std::optional<std::string> answering_socket(const Invocation& inv)
{
    constexpr std::chrono::milliseconds timeout{2000};
    std::vector<std::string> paths{inv.client.socket_path.empty() ? default_socket_path(inv.client.ident)
                                                                  : inv.client.socket_path};
    std::string why;
    if (paths.front() == default_socket_path(inv.client.ident))
        if (auto alt = runtime_socket(inv.client.ident, why))
            paths.push_back(*alt);
    for (const auto& path : paths) {
        auto c = IpcClient::connect(path, timeout);
        if (!c)
            continue;
        Request req;
        req.args.emplace_back("version");
        auto end = c->call(req, [](std::string_view) {});
        if (end && end->status == 0)
            return path;
    }
    return std::nullopt;
}

// How a fix starts the daemon for this invocation's ident, config and table.
std::string daemon_command(const Invocation& inv)
{
    const auto& d = inv.daemon;
    const bool ctl = inv.personality != Personality::legacy;
    std::string cmd = ctl ? "smcrouted" : "smcroute -d";
    if (d.ident != "smcroute")
        cmd += cat(ctl ? " -i " : " --ident ", d.ident);
    if (d.config_given)
        cmd += cat(ctl ? " -f " : " --config ", d.config_file);
    if (d.table != 0)
        cmd += cat(ctl ? " -t " : " --table ", d.table);
    return cmd;
}

// `check` runs here, in the client: it reads the config (or takes one route
// from the command line), probes the system and prints every finding.
int run_check(const Invocation& inv, const ClientCommand& cmd, std::string_view prefix, const Output& out,
              const Output& err)
{
    CheckRequest req;
    req.daemon_command = daemon_command(inv);
    std::vector<Finding> findings;
    std::string what;
    if (cmd.args.empty()) {
        const std::string& path = inv.daemon.config_file;
        auto files = make_disk_files();
        ParseResult parsed = parse_config_file(path, *files);
        for (const auto& d : parsed.diagnostics) {
            if (d.severity != Severity::error)
                continue; // the parser's warnings are findings of diagnose(), with their fixes
            findings.push_back(Finding{
                Severity::error, d.line ? cat(d.file, ':', d.line) : d.file, cat("config error: ", d.message),
                d.line ? std::string("correct that line (see smcroute.conf(5)); until then the daemon refuses the file")
                       : cat("create it, or name another file with ",
                             inv.personality == Personality::legacy ? "--config FILE" : "-f FILE")});
        }
        req.config = std::move(parsed.config);
        req.whole_config = true;
        what = cat("config ", path, ": ", plural(req.config.routes.size(), "route"), ", ",
                   plural(req.config.joins.size(), "join"), ", ", plural(req.config.phyints.size(), "phyint"));
    } else {
        RouteText text = split_route_words(cmd.args);
        Checked<RouteSpec> checked = check_route(text, false);
        if (!checked.value) {
            std::string msg;
            for (const auto& i : checked.issues)
                if (i.severity == Severity::error)
                    msg += cat(msg.empty() ? "" : "; ", i.message);
            put_line(err, cat(prefix, "check: ", msg));
            return exit_code::usage;
        }
        req.config.routes.push_back(Located<RouteSpec>{*checked.value, {}});
        req.whole_config = false;
        what = cat("route ", checked.value->key_str(), " from ", checked.value->iif.view());
    }

    ProbeRequest probe;
    probe.table = inv.daemon.table;
    probe.sources = sources_to_look_up(req.config);
    probe.v4 = uses_family(req.config, Family::inet);
    probe.v6 = uses_family(req.config, Family::inet6);
    auto facts = probe_system(probe);
    if (!facts) {
        put_line(err, cat(prefix, "check: ", facts.error().message));
        return exit_code::os_error;
    }
    auto socket = answering_socket(inv);
    facts->daemon_answers = socket.has_value();
    for (auto& f : diagnose(req, *facts))
        findings.push_back(std::move(f));

    size_t problems = 0, warnings = 0;
    for (const auto& f : findings)
        ++(f.severity == Severity::error ? problems : warnings);

    if (inv.client.json) {
        put_line(out, "{");
        put_line(out, cat("  \"checked\": ", json_string(what), ","));
        put_line(out, cat("  \"daemon\": ", socket ? "true" : "false", ","));
        if (socket)
            put_line(out, cat("  \"socket\": ", json_string(*socket), ","));
        put_line(out, cat("  \"problems\": ", problems, ","));
        put_line(out, cat("  \"warnings\": ", warnings, ","));
        put(out, "  \"findings\": [");
        for (size_t i = 0; i < findings.size(); ++i) {
            const auto& f = findings[i];
            put(out, cat(i ? ",\n    " : "\n    ", "{\"severity\": ",
                         f.severity == Severity::error ? "\"problem\"" : "\"warning\"",
                         ", \"subject\": ", json_string(f.subject), ", \"message\": ", json_string(f.message),
                         ", \"fix\": ", json_string(f.fix), "}"));
        }
        put_line(out, findings.empty() ? "]" : "\n  ]");
        put_line(out, "}");
    } else {
        put_line(out, cat("check: ", what));
        if (socket)
            put_line(out, cat("check: the daemon answers on ", *socket));
        for (const auto& f : findings) {
            put_line(out, cat(f.severity == Severity::error ? "problem: " : "warning: ", f.subject, ": ", f.message));
            if (!f.fix.empty())
                put_line(out, cat("  fix: ", f.fix));
        }
        if (problems == 0)
            put_line(out, warnings == 0 ? std::string("check: no problems found")
                                        : cat("check: no problems found, ", plural(warnings, "warning")));
        else
            put_line(out, cat("check: ", plural(problems, "problem"), ", ", plural(warnings, "warning")));
    }
    std::fflush(out.file());
    return problems == 0 ? exit_code::ok : exit_code::failed;
}

// One connection, opened when the first command that needs the daemon comes.
class Session {
public:
    Session(const Invocation& inv, std::chrono::milliseconds timeout, const Output& out, const Output& err)
        : inv_(inv), out_(out), err_(err), timeout_(timeout)
    {
        const auto& c = inv.client;
        socket_ = c.socket_path.empty() ? default_socket_path(c.ident) : c.socket_path;
        if (c.detail)
            flags_ |= req_detail;
        if (c.json)
            flags_ |= req_json;
        if ((c.plain || out.tty()) && !c.no_headings)
            flags_ |= req_headings;
    }

    // False once the connection is lost or could not be made: stop then.
    bool usable() const { return !broken_; }

    // Whether the command is answered here, without the daemon.
    static bool is_local(const ClientCommand& cmd)
    {
        return cmd.verb == Verb::version || cmd.verb == Verb::help || cmd.verb == Verb::check;
    }

    // Runs one command; errors go to err prefixed with `prefix`. Returns the
    // exit status of the command. `last`: no command follows on this
    // connection, so the daemon may close it as soon as it has answered.
    int run(const ClientCommand& cmd, std::string_view prefix, bool last)
    {
        if (is_local(cmd))
            return run_local(cmd, prefix);
        if (!connect())
            return connect_status_;
        auto end = ask(make_request(cmd), last);
        if (!end)
            return lost(prefix, end.error());
        return report(*end, cmd.verb, prefix);
    }

    int run_local(const ClientCommand& cmd, std::string_view prefix)
    {
        if (cmd.verb == Verb::version) {
            put_line(out_, version_text());
            return exit_code::ok;
        }
        if (cmd.verb == Verb::help) {
            if (cmd.args.empty()) {
                put(out_, help_text(inv_.personality));
            } else {
                auto topic = match_verb(cmd.args.front());
                if (!topic) {
                    put_line(err_, cat(prefix, topic.error().message));
                    return exit_code::usage;
                }
                const VerbInfo& v = verb_info(*topic);
                put_line(out_, cat("Usage: ", program_name(inv_.personality), " ", v.name,
                                   v.synopsis.empty() ? "" : " ", v.synopsis));
                put_line(out_, cat("  ", v.help));
            }
            return exit_code::ok;
        }
        return run_check(inv_, cmd, prefix, out_, err_);
    }

    // The connection, opened on first use; null (reported) when it cannot be.
    IpcClient* connection() { return connect() ? &*conn_ : nullptr; }
    // The connection if one is open, without opening one.
    IpcClient* open_connection() { return conn_ && conn_->connected() ? &*conn_ : nullptr; }
    int connect_status() const { return connect_status_; }

    Request make_request(const ClientCommand& cmd) const
    {
        Request req;
        req.flags = flags_;
        req.args.reserve(cmd.args.size() + 1);
        req.args.emplace_back(verb_info(cmd.verb).name);
        req.args.insert(req.args.end(), cmd.args.begin(), cmd.args.end());
        return req;
    }

    // Prints the outcome of one answered command; returns its exit status.
    int report(const EndFrame& end, Verb verb, std::string_view prefix)
    {
        if (end.status != 0) {
            std::fflush(out_.file());
            std::string_view msg = end.message;
            put_line(err_, msg.empty() ? cat(prefix, verb_info(verb).name, " failed") : cat(prefix, msg));
            return static_cast<int>(end.status);
        }
        if (!end.message.empty())
            put_line(out_, end.message);
        std::fflush(out_.file());
        return exit_code::ok;
    }

    // The connection failed while a command waited for its answer.
    int lost(std::string_view prefix, const Error& error)
    {
        std::fflush(out_.file());
        broken_ = true;
        put_line(err_, cat(prefix, error.message));
        return exit_code::failed;
    }

    void row(std::string_view text) { put_line(out_, text); }

private:
    Result<EndFrame> ask(const Request& req, bool last)
    {
        auto on_row = [this](std::string_view row) { put_line(out_, row); };
        if (!last)
            return conn_->call(req, on_row);
        if (Status st = conn_->queue(req); !st)
            return st.take_error();
        conn_->end_requests();
        std::optional<EndFrame> end;
        if (Status st = conn_->drain(0, on_row, [&end](const EndFrame& e) { end = e; }); !st)
            return st.take_error();
        return std::move(*end);
    }

    bool connect()
    {
        if (conn_ && conn_->connected())
            return true;
        if (broken_)
            return false;
        auto c = IpcClient::connect(socket_, timeout_);
        if (!c && c.error().code == ENOENT && socket_ == default_socket_path(inv_.client.ident)) {
            // A daemon started with -p USER keeps its socket in its runtime directory.
            std::string why;
            if (auto alt = runtime_socket(inv_.client.ident, why)) {
                if (auto c2 = IpcClient::connect(*alt, timeout_)) {
                    socket_ = *alt;
                    c = std::move(c2);
                }
            } else if (!why.empty()) {
                c = Error{0, why};
            }
        }
        if (!c) {
            broken_ = true;
            // Reported once, without a command label: no command was sent.
            int code = c.error().code;
            if (code == EACCES || code == EPERM) {
                connect_status_ = exit_code::permission;
                put_line(err_, cat(program_name(inv_.personality), ": permission denied: cannot connect to ", socket_,
                                   " (only root or the socket's group may)"));
            } else {
                put_line(err_, cat(program_name(inv_.personality), ": ", c.error().message));
            }
            return false;
        }
        conn_.emplace(std::move(*c));
        return true;
    }

    const Invocation& inv_;
    Output out_;
    Output err_;
    std::chrono::milliseconds timeout_;
    std::string socket_;
    uint32_t flags_ = 0;
    std::optional<IpcClient> conn_;
    bool broken_ = false;
    int connect_status_ = exit_code::failed;
};

// Reads lines from a descriptor with its own buffer, so it knows when the
// next line is not there yet (a pipe fed slowly, a terminal): the batch then
// finishes what it has queued before it waits. A FILE without a descriptor
// (a memory stream) is read with getline() and never waits.
class LineReader {
public:
    explicit LineReader(std::FILE* in) : in_(in), fd_(::fileno(in)) {}

    // The next line without its '\n'; false at end of input (or on a read
    // error) with nothing read. Calls before_wait() once before a read that
    // may block.
    template <class Fn>
    bool next(std::string& line, Fn&& before_wait)
    {
        line.clear();
        if (fd_ < 0)
            return next_from_file(line);
        for (;;) {
            size_t nl = buf_.find('\n', pos_);
            if (nl != std::string::npos) {
                line.assign(buf_, pos_, nl - pos_);
                pos_ = nl + 1;
                return true;
            }
            if (eof_) {
                if (pos_ == buf_.size())
                    return false;
                line.assign(buf_, pos_);
                pos_ = buf_.size();
                return true;
            }
            fill(before_wait);
        }
    }

private:
    template <class Fn>
    void fill(Fn& before_wait)
    {
        buf_.erase(0, pos_);
        pos_ = 0;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) == 0)
            before_wait();
        size_t old = buf_.size();
        buf_.resize(old + read_chunk);
        for (;;) {
            ssize_t n = ::read(fd_, buf_.data() + old, read_chunk);
            if (n > 0) {
                buf_.resize(old + static_cast<size_t>(n));
                return;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                p.revents = 0;
                (void)::poll(&p, 1, -1);
                continue;
            }
            buf_.resize(old);
            eof_ = true;
            return;
        }
    }

    bool next_from_file(std::string& line)
    {
        char buf[4096];
        bool any = false;
        while (std::fgets(buf, sizeof buf, in_)) {
            any = true;
            std::string_view chunk(buf);
            if (!chunk.empty() && chunk.back() == '\n') {
                chunk.remove_suffix(1);
                line += chunk;
                return true;
            }
            line += chunk;
        }
        return any;
    }

    static constexpr size_t read_chunk = 64 * 1024;
    std::FILE* in_;
    int fd_;
    std::string buf_;
    size_t pos_ = 0;
    bool eof_ = false;
};

// `-b`: every line's request is sent ahead of the answers to earlier lines
// (at most batch_window outstanding), over the one connection; the answers
// come back in order and each failure is reported with its line number, in
// line order. Lines answered here (help, version, check, a line that does
// not parse) first wait for every earlier answer, and so does a batch whose
// input is not ready.
class Batch {
public:
    static constexpr size_t window = 256;
    static constexpr size_t max_unsent = 256 * 1024;

    Batch(Session& session, const Output& err) : session_(session), err_(err) {}

    int run(std::FILE* in)
    {
        LineReader reader(in);
        std::string line;
        auto flush_all = [this] { settle(0); };
        for (size_t lineno = 1; session_.usable() && reader.next(line, flush_all); ++lineno) {
            auto words = split_words(strip_comment(line));
            if (words.empty())
                continue;
            auto cmd = parse_client_command(words);
            if (!cmd) {
                settle(0);
                if (!session_.usable())
                    break;
                put_line(err_, cat(prefix(lineno), cmd.error().message));
                note(exit_code::usage);
                continue;
            }
            if (Session::is_local(*cmd)) {
                settle(0);
                if (!session_.usable())
                    break;
                note(session_.run_local(*cmd, prefix(lineno)));
                continue;
            }
            IpcClient* conn = session_.connection();
            if (!conn) {
                note(session_.connect_status());
                break;
            }
            if (Status st = conn->queue(session_.make_request(*cmd)); !st) {
                // Not sent (too large for a frame): this line fails alone.
                settle(0);
                if (!session_.usable())
                    break;
                put_line(err_, cat(prefix(lineno), st.error().message));
                note(exit_code::failed);
                continue;
            }
            pending_.push_back(Pending{lineno, cmd->verb});
            if (conn->outstanding() >= window || conn->unsent() >= max_unsent)
                settle(window / 2);
        }
        if (IpcClient* conn = session_.open_connection(); conn && session_.usable())
            conn->end_requests(); // the daemon may close once it has answered
        settle(0);
        return status_;
    }

private:
    struct Pending {
        size_t lineno;
        Verb verb;
    };

    static std::string prefix(size_t lineno) { return cat("line ", lineno, ": "); }

    void note(int rc)
    {
        if (rc != exit_code::ok && status_ == exit_code::ok)
            status_ = rc;
    }

    // Send and read until at most `left` lines wait for their answer.
    void settle(size_t left)
    {
        if (pending_.empty() || !session_.usable())
            return;
        IpcClient* conn = session_.connection();
        assert(conn && conn->outstanding() == pending_.size());
        Status st = conn->drain(
            left, [this](std::string_view row) { session_.row(row); },
            [this](const EndFrame& end) {
                const Pending& p = pending_.front();
                // The prefix only for a failure: most lines succeed.
                note(session_.report(end, p.verb, end.status ? prefix(p.lineno) : std::string()));
                pending_.pop_front();
            });
        if (!st) {
            // The first unanswered line names the failure; the rest stop.
            note(session_.lost(prefix(pending_.front().lineno), st.error()));
            pending_.clear();
        }
    }

    Session& session_;
    Output err_;
    std::deque<Pending> pending_;
    int status_ = exit_code::ok;
};

} // namespace

std::string default_socket_path(const std::string& ident)
{
    return cat("/run/", ident, ".sock");
}

std::string runtime_dir(const std::string& ident)
{
    return cat("/run/", ident);
}

int run_client(const Invocation& inv, std::FILE* in, std::FILE* out, std::FILE* err)
{
    const Output to_out(out), to_err(err);
    auto timeout = client_timeout();
    if (!timeout) {
        put_line(to_err, cat(program_name(inv.personality), ": ", timeout.error().message));
        return exit_code::usage;
    }
    Session session(inv, *timeout, to_out, to_err);
    int status = exit_code::ok;
    const bool name_commands = inv.commands.size() > 1;
    for (size_t i = 0; i < inv.commands.size(); ++i) {
        const auto& cmd = inv.commands[i];
        std::string prefix = cat(program_name(inv.personality), ": ");
        if (name_commands && !cmd.label.empty())
            prefix += cat(cmd.label, ": ");
        const bool last = i + 1 == inv.commands.size() && !inv.client.batch;
        int rc = session.run(cmd, prefix, last);
        if (rc != exit_code::ok && status == exit_code::ok)
            status = rc;
        if (!session.usable())
            break;
    }
    if (inv.client.batch && session.usable()) {
        int rc = Batch(session, to_err).run(in);
        if (status == exit_code::ok)
            status = rc;
    }
    std::fflush(out);
    std::fflush(err);
    return status;
}

} // namespace smcroute
