#include "smcroute/runtime/client_batch.hpp"

#include "smcroute/base/words.hpp"

#include <cassert>
#include <cerrno>
#include <deque>
#include <poll.h>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace smcroute {

namespace {

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
            if (cmd->verb == Verb::monitor) { // it would never end and hold up every line after it
                put_line(err_, cat(prefix(lineno), "monitor cannot run in a batch (-b)"));
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

int run_batch(Session& session, const Output& err, std::FILE* in)
{
    return Batch(session, err).run(in);
}

} // namespace smcroute
