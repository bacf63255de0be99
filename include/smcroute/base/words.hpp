// base/words: the one word splitter, for command lines (batch input) and
// kernel tables (/proc). Splits on ASCII white space; knows no quoting and
// no meaning of the words.
#pragma once

#include <string_view>
#include <vector>

namespace smcroute {

// The words of line, separated by runs of ' ', '\t', '\r', '\n', '\v', '\f'.
// Views into line.
std::vector<std::string_view> split_words(std::string_view line);

// line up to its first `mark` (a comment), or all of it.
std::string_view strip_comment(std::string_view line, char mark = '#');

} // namespace smcroute
