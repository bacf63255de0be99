// runtime/events: the daemon's event bus. What just happened (a route learned
// from a rule, expired, flushed; a stop filter; an interface appeared or
// vanished; pending routes activated; a reload applied or refused; a WRONGVIF
// move; upcalls lost) as an Event of named fields, published to any number of
// subscribers (the IPC server's monitors), each rendered at most once per
// format: a text line or a JSON object. Publishers (the Router, the daemon)
// hold a pointer to the bus and ask wanted() before building an event, so an
// unwatched daemon pays one test. Knows nothing of sockets or clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

// Every event, by its name on the wire (events_table in events.cpp).
enum class EventKind : uint8_t {
    monitor_started,   // the first line a monitor gets: it is subscribed
    learned,           // an (S,G) installed from a (*,G) rule
    stop_filter,       // an (S,G) installed with no OIF: no rule matched
    expired,           // a learned entry or stop filter idle for -c SEC
    flushed,           // `flush`: every learned entry and stop filter removed
    interface_added,   // an interface appeared (netlink)
    interface_removed, // an interface vanished
    pending_activated, // routes or rules waiting for an interface now active
    reload_applied,    // a reload's changes made
    reload_refused,    // a reload refused: the running config stays
    wrongvif_move,     // a learned entry moved to the interface its source now uses
    upcall_losses,     // upcalls dropped by the kernel or refused (--max-learned)
    events_dropped,    // this monitor fell behind: events left out
    listener_added,    // proxy: a downstream link has listeners for a group now
    listener_removed,  // proxy: the last listener of a group on a downstream link went
    querier_changed,   // proxy: we became or stopped being a downstream link's querier
    upstream_joined,   // proxy: a group joined on the upstream interface
    upstream_left,     // proxy: a group left on the upstream interface
};

// The event's name ("learned", "reload_applied", ...).
std::string_view event_name(EventKind kind);
// Every kind, in table order (for the documentation drift test).
std::vector<EventKind> all_event_kinds();

// A field: text, a number or a list of words.
struct EventField {
    enum class Type : uint8_t { text, number, list };
    std::string_view name;
    Type type = Type::text;
    std::string text;
    uint64_t number = 0;
    std::vector<std::string> list;
};

struct Event {
    EventKind kind;
    std::vector<EventField> fields;
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();

    Event& add(std::string_view name, std::string text)
    {
        auto& f = fields.emplace_back();
        f.name = name;
        f.text = std::move(text);
        return *this;
    }
    Event& add(std::string_view name, uint64_t n)
    {
        auto& f = fields.emplace_back();
        f.name = name;
        f.type = EventField::Type::number;
        f.number = n;
        return *this;
    }
    Event& add(std::string_view name, std::vector<std::string> list)
    {
        auto& f = fields.emplace_back();
        f.name = name;
        f.type = EventField::Type::list;
        f.list = std::move(list);
        return *this;
    }
};

// "2026-12-07T12:34:56.789Z learned source=10.0.0.1 group=225.1.2.3
// iif=eth0 oifs=eth1,eth2 rule=\"(*, 225.1.2.0/24)\"": UTC time, the name,
// then name=value per field; a value with a space, quote, backslash or
// '=' is quoted, lists are joined with ','.
std::string event_text(const Event& ev);
// {"time": "2026-...Z", "event": "learned", "source": "10.0.0.1", ...}:
// numbers as numbers, lists as arrays of strings.
std::string event_json(const Event& ev);

// An event with its two renderings, each made when first asked for.
class EventLines {
public:
    explicit EventLines(const Event& ev) : ev_(ev) {}
    const Event& event() const { return ev_; }
    const std::string& text() const;
    const std::string& json() const;

private:
    const Event& ev_;
    mutable std::optional<std::string> text_, json_;
};

class EventBus {
public:
    // Called for each event published; returns false to be unsubscribed
    // (its monitor has gone).
    using Subscriber = std::function<bool(const EventLines&)>;

    // Whether anyone listens: publishers build no event when not.
    bool wanted() const { return !subscribers_.empty(); }
    void subscribe(Subscriber fn) { subscribers_.push_back(std::move(fn)); }
    // To every subscriber, in the order they subscribed. A subscriber may
    // not publish from inside its call.
    void publish(const Event& ev);
    size_t subscribers() const { return subscribers_.size(); }

private:
    std::vector<Subscriber> subscribers_;
    bool publishing_ = false;
};

} // namespace smcroute
