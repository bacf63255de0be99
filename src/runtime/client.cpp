#include "smcroute/runtime/client.hpp"

#include "smcroute/model/runtime_paths.hpp"
#include "smcroute/os/runtime_files.hpp"
#include "smcroute/runtime/check.hpp"
#include "smcroute/runtime/client_batch.hpp"
#include "smcroute/runtime/client_output.hpp"
#include "smcroute/runtime/client_session.hpp"

#include <charconv>
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string_view>

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

} // namespace

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

// ---------------------------------------------------------------- Session

Session::Session(const Invocation& inv, std::chrono::milliseconds timeout, const Output& out, const Output& err)
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

int Session::run(const ClientCommand& cmd, std::string_view prefix, bool last)
{
    if (is_local(cmd))
        return run_local(cmd, prefix);
    if (cmd.verb == Verb::monitor)
        return monitor(cmd, prefix);
    if (!connect())
        return connect_status_;
    auto end = ask(make_request(cmd), last);
    if (!end)
        return lost(prefix, end.error());
    return report(*end, cmd.verb, prefix);
}

int Session::run_local(const ClientCommand& cmd, std::string_view prefix)
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

Request Session::make_request(const ClientCommand& cmd) const
{
    Request req;
    req.flags = flags_;
    req.args.reserve(cmd.args.size() + 1);
    req.args.emplace_back(verb_info(cmd.verb).name);
    req.args.insert(req.args.end(), cmd.args.begin(), cmd.args.end());
    return req;
}

int Session::report(const EndFrame& end, Verb verb, std::string_view prefix)
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

int Session::lost(std::string_view prefix, const Error& error)
{
    std::fflush(out_.file());
    broken_ = true;
    put_line(err_, cat(prefix, error.message));
    return exit_code::failed;
}

Result<EndFrame> Session::ask(const Request& req, bool last)
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

bool Session::connect()
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

// ---------------------------------------------------------------- the client

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
        int rc = run_batch(session, to_err, in);
        if (status == exit_code::ok)
            status = rc;
    }
    std::fflush(out);
    std::fflush(err);
    return status;
}

} // namespace smcroute
