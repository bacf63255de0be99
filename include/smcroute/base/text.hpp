// base/text: building operator-readable text without streams: cat() joins
// strings, characters and numbers as `std::ostream <<` would; hex() writes a
// number in hex. Pure string helpers; knows nothing of logging or I/O.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace smcroute {

namespace detail {
// One piece of cat(), formatted as `std::ostream <<` would, but without a
// stream (a stream costs a locale and ~1 kB of set-up per call).
template <class T>
void cat_one(std::string& out, const T& v)
{
    if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
        if (v) // a stream prints nothing for a null pointer
            out.append(v);
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        out.append(std::string_view(v));
    } else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, signed char> ||
                         std::is_same_v<T, unsigned char>) {
        out.push_back(static_cast<char>(v)); // ostream prints these as characters
    } else if constexpr (std::is_same_v<T, bool>) {
        out.push_back(v ? '1' : '0');
    } else if constexpr (std::is_integral_v<T>) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, r.ptr);
    } else {
        static_assert(!std::is_function_v<std::remove_pointer_t<T>>,
                      "cat() has no stream state: write hex(n) instead of std::hex, n");
        static_assert(std::is_floating_point_v<T>, "cat() joins strings, characters and numbers");
        // As a stream prints it (precision 6, %g); no stream, so the program
        // links no locale machinery (a static program's size and RSS).
        char buf[64];
        int n = std::is_same_v<T, long double> ? std::snprintf(buf, sizeof buf, "%Lg", static_cast<long double>(v))
                                               : std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
        out.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
    }
}
} // namespace detail

// An unsigned number in lower-case hex without prefix: cat("0x", hex(flags)).
inline std::string hex(uint64_t v)
{
    char buf[16];
    auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
    return std::string(buf, r.ptr);
}

// A span of seconds in its two largest units, as operators read ages and
// uptimes: "42s", "4m07s", "2h05m", "3d04h".
inline std::string span_text(uint64_t seconds);

// Concatenate strings, characters and numbers: cat("vif ", 3, " on ", name).
template <class... Args>
std::string cat(const Args&... args)
{
    std::string out;
    (detail::cat_one(out, args), ...);
    return out;
}

inline std::string span_text(uint64_t s)
{
    auto two = [](uint64_t n) { return cat(n < 10 ? "0" : "", n); };
    if (s < 60)
        return cat(s, "s");
    if (s < 3600)
        return cat(s / 60, "m", two(s % 60), "s");
    if (s < 86400)
        return cat(s / 3600, "h", two(s / 60 % 60), "m");
    return cat(s / 86400, "d", two(s / 3600 % 24), "h");
}

} // namespace smcroute
