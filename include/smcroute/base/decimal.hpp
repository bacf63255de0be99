// base/decimal: non-negative decimal numbers with at most three decimals as
// whole thousandths, both ways ("0.5" <-> 500, "10" <-> 10000, "1.25" <->
// 1250): the config's values in seconds, kept in milliseconds. Pure text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smcroute {

// DIGITS[.D[D[D]]]: no sign, no exponent, no spaces, at most 12 whole
// digits. nullopt for anything else.
std::optional<uint64_t> parse_thousandths(std::string_view text);
// The shortest text parse_thousandths() reads back as v: 500 -> "0.5".
std::string thousandths_text(uint64_t v);

} // namespace smcroute
