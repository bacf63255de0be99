#include "smcroute/table.hpp"

#include <algorithm>
#include <cstdio>

namespace smcroute {

void Table::render(bool headings, const std::function<void(std::string_view)>& emit) const
{
    std::vector<size_t> width(headings_.size(), 0);
    for (size_t c = 0; c < headings_.size(); ++c)
        width[c] = headings ? headings_[c].size() : 0;
    for (const auto& row : rows_)
        for (size_t c = 0; c < row.size() && c < width.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    std::string line;
    auto put = [&](const std::vector<std::string>& cells) {
        line.clear();
        for (size_t c = 0; c < cells.size() && c < width.size(); ++c) {
            if (c)
                line += "  ";
            line += cells[c];
            if (c + 1 < cells.size())
                line.append(width[c] - cells[c].size(), ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        emit(line);
    };
    if (headings)
        put(headings_);
    for (const auto& row : rows_)
        put(row);
}

std::string json_string(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof(buf), "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
    return out;
}

} // namespace smcroute
