#include "smcroute/runtime/events.hpp"

#include "smcroute/base/json.hpp"

#include <array>
#include <cassert>
#include <ctime>

namespace smcroute {

namespace {

struct KindInfo {
    EventKind kind;
    std::string_view name;
};

constexpr auto events_table = std::to_array<KindInfo>({
    {EventKind::monitor_started, "monitor_started"},
    {EventKind::learned, "learned"},
    {EventKind::stop_filter, "stop_filter"},
    {EventKind::expired, "expired"},
    {EventKind::flushed, "flushed"},
    {EventKind::interface_added, "interface_added"},
    {EventKind::interface_removed, "interface_removed"},
    {EventKind::pending_activated, "pending_activated"},
    {EventKind::reload_applied, "reload_applied"},
    {EventKind::reload_refused, "reload_refused"},
    {EventKind::wrongvif_move, "wrongvif_move"},
    {EventKind::upcall_losses, "upcall_losses"},
    {EventKind::events_dropped, "events_dropped"},
    {EventKind::listener_added, "listener_added"},
    {EventKind::listener_removed, "listener_removed"},
    {EventKind::querier_changed, "querier_changed"},
    {EventKind::upstream_joined, "upstream_joined"},
    {EventKind::upstream_left, "upstream_left"},
});

// 2026-12-07T12:34:56.789Z
std::string utc_time(std::chrono::system_clock::time_point t)
{
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[40];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
}

bool needs_quotes(std::string_view v)
{
    if (v.empty())
        return true;
    for (char c : v)
        if (c == ' ' || c == '"' || c == '\\' || c == '=' || static_cast<unsigned char>(c) < 0x20)
            return true;
    return false;
}

void append_text_value(std::string& out, std::string_view v)
{
    if (!needs_quotes(v)) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c; // control bytes are escaped by the client for a terminal
    }
    out += '"';
}

} // namespace

std::string_view event_name(EventKind kind)
{
    for (const auto& e : events_table)
        if (e.kind == kind)
            return e.name;
    assert(false && "event missing from the table");
    return "event";
}

std::vector<EventKind> all_event_kinds()
{
    std::vector<EventKind> out;
    for (const auto& e : events_table)
        out.push_back(e.kind);
    return out;
}

std::string event_text(const Event& ev)
{
    std::string out = utc_time(ev.time);
    out += ' ';
    out += event_name(ev.kind);
    for (const auto& f : ev.fields) {
        out += ' ';
        out += f.name;
        out += '=';
        if (f.type == EventField::Type::text) {
            append_text_value(out, f.text);
        } else if (f.type == EventField::Type::number) {
            out += std::to_string(f.number);
        } else {
            std::string joined;
            for (const auto& item : f.list)
                joined += joined.empty() ? item : "," + item;
            if (joined.empty())
                out += "-"; // none
            else
                append_text_value(out, joined);
        }
    }
    return out;
}

std::string event_json(const Event& ev)
{
    std::string out;
    JsonWriter w(out);
    w.object().member("time", utc_time(ev.time)).member("event", event_name(ev.kind));
    for (const auto& f : ev.fields) {
        if (f.type == EventField::Type::text)
            w.member(f.name, std::string_view(f.text));
        else if (f.type == EventField::Type::number)
            w.member(f.name, f.number);
        else
            w.string_array(f.name, f.list, [](const std::string& item) { return std::string_view(item); });
    }
    w.end();
    return out;
}

const std::string& EventLines::text() const
{
    if (!text_)
        text_ = event_text(ev_);
    return *text_;
}

const std::string& EventLines::json() const
{
    if (!json_)
        json_ = event_json(ev_);
    return *json_;
}

void EventBus::publish(const Event& ev)
{
    if (subscribers_.empty() || publishing_)
        return; // a subscriber publishing from inside its call is dropped
    publishing_ = true;
    EventLines lines(ev);
    size_t keep = 0;
    for (size_t i = 0; i < subscribers_.size(); ++i)
        if (subscribers_[i](lines)) {
            if (keep != i)
                subscribers_[keep] = std::move(subscribers_[i]);
            ++keep;
        }
    subscribers_.resize(keep);
    publishing_ = false;
}

} // namespace smcroute
