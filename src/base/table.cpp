#include "smcroute/base/table.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace smcroute {

Table::Table(std::vector<std::string> headings) : headings_(std::move(headings)), width_(headings_.size(), 0) {}

void Table::add_cell(std::string_view cell)
{
    size_t col = ends_.size() - row_start_.back();
    if (col < width_.size())
        width_[col] = std::max(width_[col], cell.size());
    text_.append(cell);
    assert(text_.size() <= UINT32_MAX);
    ends_.push_back(static_cast<uint32_t>(text_.size()));
}

void Table::add(const std::vector<std::string>& row)
{
    row_start_.push_back(static_cast<uint32_t>(ends_.size()));
    for (const auto& cell : row)
        add_cell(cell);
}

void Table::add(std::initializer_list<std::string_view> row)
{
    row_start_.push_back(static_cast<uint32_t>(ends_.size()));
    for (auto cell : row)
        add_cell(cell);
}

void Table::put_line(std::string& line, const std::vector<std::string_view>& cells, bool headings) const
{
    line.clear();
    for (size_t c = 0; c < cells.size() && c < width_.size(); ++c) {
        if (c)
            line += "  ";
        line += cells[c];
        if (c + 1 < cells.size()) {
            size_t w = headings ? std::max(width_[c], headings_[c].size()) : width_[c];
            if (w > cells[c].size())
                line.append(w - cells[c].size(), ' ');
        }
    }
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
}

void Table::render_heading(const std::function<void(std::string_view)>& emit) const
{
    std::vector<std::string_view> cells(headings_.begin(), headings_.end());
    std::string line;
    put_line(line, cells, true);
    emit(line);
}

void Table::render_rows(size_t first, size_t count, bool headings,
                        const std::function<void(std::string_view)>& emit) const
{
    std::vector<std::string_view> cells;
    std::string line;
    const size_t last = std::min(size(), first + std::min(count, size()));
    for (size_t r = first; r < last; ++r) {
        size_t from = row_start_[r];
        size_t to = r + 1 < row_start_.size() ? row_start_[r + 1] : ends_.size();
        cells.clear();
        for (size_t i = from; i < to; ++i) {
            size_t begin = i == 0 ? 0 : ends_[i - 1];
            cells.push_back(std::string_view(text_).substr(begin, ends_[i] - begin));
        }
        put_line(line, cells, headings);
        emit(line);
    }
}

void Table::measure(std::initializer_list<std::string_view> row)
{
    size_t col = 0;
    for (auto cell : row) {
        if (col < width_.size())
            width_[col] = std::max(width_[col], cell.size());
        ++col;
    }
}

void Table::set_column_widths(const std::vector<size_t>& widths)
{
    for (size_t c = 0; c < width_.size(); ++c)
        width_[c] = c < widths.size() ? widths[c] : 0;
}

void Table::render_row(std::initializer_list<std::string_view> row, bool headings,
                       const std::function<void(std::string_view)>& emit)
{
    cells_.assign(row.begin(), row.end());
    put_line(line_, cells_, headings);
    emit(line_);
}

void Table::render(bool headings, const std::function<void(std::string_view)>& emit) const
{
    if (headings)
        render_heading(emit);
    render_rows(0, size(), headings, emit);
}

namespace {

// Length of the valid UTF-8 sequence at text[i] (1 for ASCII), 0 when the
// bytes there are not valid UTF-8 (overlong forms and surrogates included).
size_t utf8_length(std::string_view text, size_t i)
{
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80)
        return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf; // bounds of the second byte
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (i + n > text.size() || byte(i + 1) < lo || byte(i + 1) > hi)
        return 0;
    for (size_t k = 2; k < n; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf)
            return 0;
    return n;
}

// Bytes at text[i] a terminal could act on (0: none, a printable sequence of
// utf8_length() bytes is there).
size_t unsafe_length(std::string_view text, size_t i)
{
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f)
        return 1;
    size_t n = utf8_length(text, i);
    if (n == 0)
        return 1;
    if (n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)
        return 2; // U+0080..U+009F
    return 0;
}

} // namespace

bool needs_terminal_escape(std::string_view text)
{
    for (size_t i = 0; i < text.size();) {
        if (unsafe_length(text, i))
            return true;
        i += utf8_length(text, i);
    }
    return false;
}

std::string terminal_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (size_t bad = unsafe_length(text, i)) {
            for (size_t k = 0; k < bad; ++k) {
                char buf[5];
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i + k]));
                out += buf;
            }
            i += bad;
            continue;
        }
        size_t n = utf8_length(text, i);
        out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

} // namespace smcroute
