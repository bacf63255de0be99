#include "smcroute/client.hpp"


#include "smcroute/ipc_client.hpp"

#include <cerrno>
#include <chrono>
#include <optional>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace smcroute {

namespace {

constexpr std::chrono::milliseconds connect_timeout{5000};

void put(std::FILE* f, std::string_view text)
{
    std::fwrite(text.data(), 1, text.size(), f);
}

void put_line(std::FILE* f, std::string_view text)
{
    put(f, text);
    std::fputc('\n', f);
}


// Reads one line without its '\n'; false at end of input with nothing read.
bool read_line(std::FILE* in, std::string& line)
{
    line.clear();
    char buf[4096];
    bool any = false;
    while (std::fgets(buf, sizeof buf, in)) {
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

std::vector<std::string_view> split_words(std::string_view line)
{
    if (auto hash = line.find('#'); hash != std::string_view::npos)
        line = line.substr(0, hash);
    std::vector<std::string_view> words;
    size_t i = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
    while (i < line.size()) {
        while (i < line.size() && space(line[i]))
            ++i;
        size_t start = i;
        while (i < line.size() && !space(line[i]))
            ++i;
        if (i > start)
            words.push_back(line.substr(start, i - start));
    }
    return words;
}

// One connection, opened when the first command that needs the daemon comes.
class Session {
public:
    Session(const Invocation& inv, std::FILE* out, std::FILE* err) : inv_(inv), out_(out), err_(err)
    {
        const auto& c = inv.client;
        socket_ = c.socket_path.empty() ? default_socket_path(c.ident) : c.socket_path;
        if (c.detail)
            flags_ |= req_detail;
        if (c.json)
            flags_ |= req_json;
        if ((c.plain || ::isatty(::fileno(out))) && !c.no_headings)
            flags_ |= req_headings;
    }

    // False once the connection is lost or could not be made: stop then.
    bool usable() const { return !broken_; }

    // Runs one command; errors go to err prefixed with `prefix`. Returns the
    // exit status of the command.
    int run(const ClientCommand& cmd, std::string_view prefix)
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
        if (!connect())
            return connect_status_;

        Request req;
        req.flags = flags_;
        req.args.reserve(cmd.args.size() + 1);
        req.args.emplace_back(verb_info(cmd.verb).name);
        req.args.insert(req.args.end(), cmd.args.begin(), cmd.args.end());
        auto end = conn_->call(req, [this](std::string_view row) { put_line(out_, row); });
        std::fflush(out_);
        if (!end) {
            broken_ = true;
            put_line(err_, cat(prefix, end.error().message));
            return exit_code::failed;
        }
        if (end->status != 0) {
            std::string_view msg = end->message;
            put_line(err_, msg.empty() ? cat(prefix, verb_info(cmd.verb).name, " failed") : cat(prefix, msg));
            return static_cast<int>(end->status);
        }
        if (!end->message.empty())
            put_line(out_, end->message);
        return exit_code::ok;
    }

private:
    bool connect()
    {
        if (conn_)
            return true;
        if (broken_)
            return false;
        auto c = IpcClient::connect(socket_, connect_timeout);
        if (!c && c.error().code == ENOENT && socket_ == default_socket_path(inv_.client.ident)) {
            // A daemon started with -p USER keeps its socket in its runtime directory.
            std::string alt = cat(runtime_dir(inv_.client.ident), "/", inv_.client.ident, ".sock");
            if (auto c2 = IpcClient::connect(alt, connect_timeout)) {
                socket_ = alt;
                c = std::move(c2);
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
    std::FILE* out_;
    std::FILE* err_;
    std::string socket_;
    uint32_t flags_ = 0;
    std::optional<IpcClient> conn_;
    bool broken_ = false;
    int connect_status_ = exit_code::failed;
};

int run_batch(Session& session, std::FILE* in, std::FILE* err)
{
    int status = exit_code::ok;
    std::string line;
    for (size_t lineno = 1; read_line(in, line); ++lineno) {
        auto words = split_words(line);
        if (words.empty())
            continue;
        std::string prefix = cat("line ", lineno, ": ");
        auto cmd = parse_client_command(words);
        int rc;
        if (!cmd) {
            put_line(err, cat(prefix, cmd.error().message));
            rc = exit_code::usage;
        } else {
            rc = session.run(*cmd, prefix);
        }
        if (rc != exit_code::ok && status == exit_code::ok)
            status = rc;
        if (!session.usable())
            break;
    }
    return status;
}

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
    Session session(inv, out, err);
    int status = exit_code::ok;
    const bool name_commands = inv.commands.size() > 1;
    for (const auto& cmd : inv.commands) {
        std::string prefix = cat(program_name(inv.personality), ": ");
        if (name_commands && !cmd.label.empty())
            prefix += cat(cmd.label, ": ");
        int rc = session.run(cmd, prefix);
        if (rc != exit_code::ok && status == exit_code::ok)
            status = rc;
        if (!session.usable())
            break;
    }
    if (inv.client.batch && session.usable()) {
        int rc = run_batch(session, in, err);
        if (status == exit_code::ok)
            status = rc;
    }
    std::fflush(out);
    std::fflush(err);
    return status;
}

} // namespace smcroute
