// runtime/client_session: the client's one connection to the daemon. A
// Session opens it when the first command that needs the daemon comes (at
// the default socket, else in the runtime directory of a daemon started with
// -p USER), sends a command and prints its rows and outcome; help, version
// and check are answered here, without the daemon; `monitor` follows the
// answer the daemon holds open (runtime/client_monitor.cpp). A batch
// (runtime/client_batch) queues requests on the same connection. Used only
// by the client personality.
#pragma once

#include "smcroute/model/cli.hpp"
#include "smcroute/runtime/client_output.hpp"
#include "smcroute/runtime/ipc_client.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smcroute {

// The socket a daemon started with -p keeps in its runtime directory, tried
// when the default socket does not exist. Used only when that directory is
// fit (root's, or this user's, and nobody else may write it): one left to
// the -p user by an older smcroute could hold that user's impostor.
// nullopt with `why` empty when there is no such directory.
std::optional<std::string> runtime_socket(const std::string& ident, std::string& why);

// One connection, opened when the first command that needs the daemon comes.
class Session {
public:
    Session(const Invocation& inv, std::chrono::milliseconds timeout, const Output& out, const Output& err);

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
    int run(const ClientCommand& cmd, std::string_view prefix, bool last);
    // A command answered here (is_local()).
    int run_local(const ClientCommand& cmd, std::string_view prefix);
    // `monitor`: prints each event line as it comes, flushed, until SIGINT,
    // SIGTERM or SIGHUP (exit 0) or the daemon goes away (a last line on
    // stderr saying so, exit 69). Never in a batch.
    int monitor(const ClientCommand& cmd, std::string_view prefix);

    // The connection, opened on first use; null (reported) when it cannot be.
    IpcClient* connection() { return connect() ? &*conn_ : nullptr; }
    // The connection if one is open, without opening one.
    IpcClient* open_connection() { return conn_ && conn_->connected() ? &*conn_ : nullptr; }
    int connect_status() const { return connect_status_; }

    Request make_request(const ClientCommand& cmd) const;
    // Prints the outcome of one answered command; returns its exit status.
    int report(const EndFrame& end, Verb verb, std::string_view prefix);
    // The connection failed while a command waited for its answer.
    int lost(std::string_view prefix, const Error& error);
    void row(std::string_view text) { put_line(out_, text); }

private:
    Result<EndFrame> ask(const Request& req, bool last);
    bool connect();

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

} // namespace smcroute
