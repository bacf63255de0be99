#include "smcroute/base/words.hpp"

namespace smcroute {

namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

} // namespace

std::vector<std::string_view> split_words(std::string_view line)
{
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i]))
            ++i;
        size_t start = i;
        while (i < line.size() && !is_space(line[i]))
            ++i;
        if (i > start)
            words.push_back(line.substr(start, i - start));
    }
    return words;
}

std::string_view strip_comment(std::string_view line, char mark)
{
    return line.substr(0, line.find(mark));
}

} // namespace smcroute
