// base/json: the one JSON writer — string escaping, and a writer of
// objects, arrays, strings, numbers, booleans and null in smcroute's layout
// ("key": value, items separated by ", "). Formatting only: it does not know
// what the values mean, and it writes no newlines (callers send lines).
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

// "text" with JSON escapes, including the quotes. Escaped: '"', '\\', the C0
// controls (\n \r \t \b \f by name, the others as \u00XX), DEL, and the C1
// controls U+0080..U+009F (which a terminal would act on). Other UTF-8
// passes through.
std::string json_string(std::string_view text);
// The same, appended to out.
void append_json_string(std::string& out, std::string_view text);

// Appends JSON to a string: {"a": 1, "b": [true, null]}. Containers are
// opened by object()/array() and closed by end(); a key() goes before each
// member of an object. A writer may be dropped with containers still open,
// to send a document in pieces (see JsonList).
class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& object();
    JsonWriter& array();
    JsonWriter& end(); // closes the innermost open object or array
    JsonWriter& key(std::string_view name);

    JsonWriter& string(std::string_view text);
    JsonWriter& boolean(bool b);
    JsonWriter& null();
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    JsonWriter& number(T n)
    {
        separate();
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
        out_.append(buf, end);
        return *this;
    }

    // key(name) and its value.
    JsonWriter& member(std::string_view name, std::string_view text) { return key(name).string(text); }
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    JsonWriter& member(std::string_view name, T n)
    {
        return key(name).number(n);
    }
    JsonWriter& member_bool(std::string_view name, bool b) { return key(name).boolean(b); }
    // An array of strings, one per element of a range.
    template <class Range, class ToText>
    JsonWriter& string_array(std::string_view name, const Range& items, ToText to_text)
    {
        key(name).array();
        for (const auto& item : items)
            string(to_text(item));
        return end();
    }

private:
    void separate(); // ", " before all but the first item of a container
    std::string& out_;
    std::vector<char> closers_;  // '}' or ']' per open container
    std::vector<bool> has_item_; // per open container
    bool after_key_ = false;
};

// A document {"NAME": [ELEMENT, ...]} sent a line at a time: open(), then
// one line per element from next() (with the "," that separates it from the
// one before), then close(). Used for listings streamed as the client reads.
class JsonList {
public:
    static std::string open(std::string_view name); // {"NAME": [
    static std::string_view close() { return "]}"; }
    // Clears line and starts the next element in it.
    JsonWriter next(std::string& line);
    size_t size() const { return count_; }

private:
    size_t count_ = 0;
};

} // namespace smcroute
