#include "smcroute/base/json.hpp"

#include <cassert>
#include <cstdio>

namespace smcroute {

void append_json_string(std::string& out, std::string_view text)
{
    out += '"';
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: {
            // Controls as \u escapes: C0, DEL, and C1 (U+0080..U+009F, the
            // UTF-8 bytes C2 80..C2 9F), which a terminal would act on.
            unsigned code = c;
            const bool c1 = c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                            static_cast<unsigned char>(text[i + 1]) < 0xa0;
            if (c1)
                code = static_cast<unsigned char>(text[++i]);
            if (code < 0x20 || code == 0x7f || c1) {
                char buf[8];
                std::snprintf(buf, sizeof(buf), "\\u%04x", code);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        }
    }
    out += '"';
}

std::string json_string(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + 2);
    append_json_string(out, text);
    return out;
}

void JsonWriter::separate()
{
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (has_item_.empty())
        return;
    if (has_item_.back())
        out_ += ", ";
    has_item_.back() = true;
}

JsonWriter& JsonWriter::object()
{
    separate();
    out_ += '{';
    closers_.push_back('}');
    has_item_.push_back(false);
    return *this;
}

JsonWriter& JsonWriter::array()
{
    separate();
    out_ += '[';
    closers_.push_back(']');
    has_item_.push_back(false);
    return *this;
}

JsonWriter& JsonWriter::end()
{
    assert(!closers_.empty() && !after_key_);
    out_ += closers_.back();
    closers_.pop_back();
    has_item_.pop_back();
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name)
{
    assert(!closers_.empty() && closers_.back() == '}' && !after_key_);
    separate();
    append_json_string(out_, name);
    out_ += ": ";
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view text)
{
    separate();
    append_json_string(out_, text);
    return *this;
}

JsonWriter& JsonWriter::boolean(bool b)
{
    separate();
    out_ += b ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null()
{
    separate();
    out_ += "null";
    return *this;
}

std::string JsonList::open(std::string_view name)
{
    std::string out;
    JsonWriter(out).object().key(name).array();
    return out;
}

JsonWriter JsonList::next(std::string& line)
{
    line.clear();
    if (count_++ > 0)
        line += ',';
    return JsonWriter(line);
}

} // namespace smcroute
