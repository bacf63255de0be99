// tests/unit/json_value: a small strict JSON reader for tests that check
// what the JSON writers produce: RFC 8259 grammar (objects, arrays,
// strings with every escape, numbers, true/false/null), nothing but
// whitespace after the value. Members keep their order. Test code only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smcroute::test {

struct JsonValue {
    enum class Type { null, boolean, number, string, array, object };
    Type type = Type::null;
    bool boolean = false;
    std::string text; // string: its value; number: its text
    std::vector<JsonValue> items;
    std::vector<std::string> keys;  // object: its keys, in order
    std::vector<JsonValue> members; // object: their values

    const JsonValue* get(std::string_view key) const
    {
        for (size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key)
                return &members[i];
        return nullptr;
    }
    // A non-negative integer number's value; none otherwise.
    std::optional<uint64_t> uint() const
    {
        if (type != Type::number || text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        return std::stoull(text);
    }
};

class JsonReader {
public:
    // The value of text; none, with why set, when it is not one JSON value.
    static std::optional<JsonValue> parse(std::string_view text, std::string& why)
    {
        JsonReader r(text);
        JsonValue v;
        if (!r.value(v, 0)) {
            why = r.why_ + " at " + std::to_string(r.pos_);
            return std::nullopt;
        }
        r.space();
        if (r.pos_ != text.size()) {
            why = "text after the value at " + std::to_string(r.pos_);
            return std::nullopt;
        }
        return v;
    }

private:
    explicit JsonReader(std::string_view t) : t_(t) {}

    bool fail(std::string why)
    {
        why_ = std::move(why);
        return false;
    }
    void space()
    {
        while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
            ++pos_;
    }
    bool literal(std::string_view word)
    {
        if (t_.substr(pos_, word.size()) != word)
            return fail("bad literal");
        pos_ += word.size();
        return true;
    }
    bool value(JsonValue& v, int depth)
    {
        if (depth > 64)
            return fail("too deep");
        space();
        if (pos_ >= t_.size())
            return fail("end of text");
        char c = t_[pos_];
        if (c == '{') {
            v.type = JsonValue::Type::object;
            ++pos_;
            space();
            if (pos_ < t_.size() && t_[pos_] == '}') {
                ++pos_;
                return true;
            }
            for (;;) {
                space();
                std::string key;
                if (!string(key))
                    return false;
                space();
                if (pos_ >= t_.size() || t_[pos_] != ':')
                    return fail("':' expected");
                ++pos_;
                JsonValue member;
                if (!value(member, depth + 1))
                    return false;
                v.keys.push_back(std::move(key));
                v.members.push_back(std::move(member));
                space();
                if (pos_ < t_.size() && t_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (pos_ < t_.size() && t_[pos_] == '}') {
                    ++pos_;
                    return true;
                }
                return fail("',' or '}' expected");
            }
        }
        if (c == '[') {
            v.type = JsonValue::Type::array;
            ++pos_;
            space();
            if (pos_ < t_.size() && t_[pos_] == ']') {
                ++pos_;
                return true;
            }
            for (;;) {
                JsonValue item;
                if (!value(item, depth + 1))
                    return false;
                v.items.push_back(std::move(item));
                space();
                if (pos_ < t_.size() && t_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (pos_ < t_.size() && t_[pos_] == ']') {
                    ++pos_;
                    return true;
                }
                return fail("',' or ']' expected");
            }
        }
        if (c == '"') {
            v.type = JsonValue::Type::string;
            return string(v.text);
        }
        if (c == 't') {
            v.type = JsonValue::Type::boolean;
            v.boolean = true;
            return literal("true");
        }
        if (c == 'f') {
            v.type = JsonValue::Type::boolean;
            return literal("false");
        }
        if (c == 'n')
            return literal("null");
        v.type = JsonValue::Type::number;
        return number(v.text);
    }
    bool digits()
    {
        size_t start = pos_;
        while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9')
            ++pos_;
        return pos_ > start;
    }
    bool number(std::string& out)
    {
        size_t start = pos_;
        if (pos_ < t_.size() && t_[pos_] == '-')
            ++pos_;
        if (pos_ < t_.size() && t_[pos_] == '0')
            ++pos_;
        else if (!digits())
            return fail("bad number");
        if (pos_ < t_.size() && t_[pos_] == '.') {
            ++pos_;
            if (!digits())
                return fail("bad fraction");
        }
        if (pos_ < t_.size() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < t_.size() && (t_[pos_] == '+' || t_[pos_] == '-'))
                ++pos_;
            if (!digits())
                return fail("bad exponent");
        }
        out.assign(t_.substr(start, pos_ - start));
        return true;
    }
    bool hex4(unsigned& u)
    {
        if (pos_ + 4 > t_.size())
            return fail("short \\u escape");
        u = 0;
        for (int i = 0; i < 4; ++i) {
            char h = t_[pos_++];
            u <<= 4;
            if (h >= '0' && h <= '9')
                u |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
                u |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                u |= static_cast<unsigned>(h - 'A' + 10);
            else
                return fail("bad \\u escape");
        }
        return true;
    }
    static void utf8(std::string& out, unsigned cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    bool string(std::string& out)
    {
        if (pos_ >= t_.size() || t_[pos_] != '"')
            return fail("string expected");
        ++pos_;
        for (;;) {
            if (pos_ >= t_.size())
                return fail("unterminated string");
            char c = t_[pos_++];
            if (c == '"')
                return true;
            if (static_cast<unsigned char>(c) < 0x20)
                return fail("control character in string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= t_.size())
                return fail("dangling escape");
            char e = t_[pos_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned cp = 0;
                if (!hex4(cp))
                    return false;
                if (cp >= 0xd800 && cp < 0xdc00) {
                    unsigned low = 0;
                    if (t_.substr(pos_, 2) != "\\u")
                        return fail("lone surrogate");
                    pos_ += 2;
                    if (!hex4(low) || low < 0xdc00 || low >= 0xe000)
                        return fail("bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                } else if (cp >= 0xdc00 && cp < 0xe000) {
                    return fail("lone surrogate");
                }
                utf8(out, cp);
                break;
            }
            default: return fail("bad escape");
            }
        }
    }

    std::string_view t_;
    size_t pos_ = 0;
    std::string why_;
};

} // namespace smcroute::test
