// base/decimal: decimal text <-> thousandths.
#include "smcroute/base/decimal.hpp"

#include "smcroute/base/text.hpp"

namespace smcroute {

std::optional<uint64_t> parse_thousandths(std::string_view text)
{
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 12 || (dot != std::string_view::npos && (frac.empty() || frac.size() > 3)))
        return std::nullopt;
    uint64_t v = 0;
    for (char c : whole) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    uint64_t scale = 100;
    v *= 1000;
    for (char c : frac) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v += static_cast<uint64_t>(c - '0') * scale;
        scale /= 10;
    }
    return v;
}

std::string thousandths_text(uint64_t v)
{
    std::string out = cat(v / 1000);
    uint64_t frac = v % 1000;
    if (frac) {
        std::string digits = cat(frac + 1000).substr(1); // three digits, leading zeros kept
        while (digits.back() == '0')
            digits.pop_back();
        out += cat('.', digits);
    }
    return out;
}

} // namespace smcroute
