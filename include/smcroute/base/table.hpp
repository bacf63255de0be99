// base/table: renders `show` output — text tables aligned to the longest
// value in each column, and escaping of text bound for a terminal (JSON is
// base/json's). Formatting only; it does not know what the rows mean. Cells are kept in one compact buffer and column
// widths as rows arrive, so rows can be rendered a slice at a time; or, for
// tables too large to keep, rows are only measured in a first pass and
// rendered one by one in a second.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

class Table {
public:
    explicit Table(std::vector<std::string> headings);
    void add(const std::vector<std::string>& row);
    void add(std::initializer_list<std::string_view> row);
    bool empty() const { return row_start_.empty(); }
    size_t size() const { return row_start_.size(); }
    // One emit() per line: the heading line when asked, then every row.
    // Columns separated by two spaces; the last column is not padded.
    void render(bool headings, const std::function<void(std::string_view)>& emit) const;
    // The same lines a slice at a time: the heading line, and rows
    // [first, first + count) aligned as render(headings, ...) aligns them.
    void render_heading(const std::function<void(std::string_view)>& emit) const;
    void render_rows(size_t first, size_t count, bool headings,
                     const std::function<void(std::string_view)>& emit) const;
    // Without keeping rows: widen the columns to fit this row (a first
    // pass), then render_row() each row as render() would (a second pass).
    // A cell wider than its column (its row changed between the passes)
    // is not cut: it pushes the rest of its line to the right.
    void measure(std::initializer_list<std::string_view> row);
    // The widths measured so far, to reuse for a table known to hold the
    // same rows.
    const std::vector<size_t>& column_widths() const { return width_; }
    void set_column_widths(const std::vector<size_t>& widths);
    void render_row(std::initializer_list<std::string_view> row, bool headings,
                    const std::function<void(std::string_view)>& emit);
    // Bytes held for the rows (cells and their bounds).
    size_t memory() const { return text_.capacity() + ends_.capacity() * 4 + row_start_.capacity() * 4; }

private:
    void add_cell(std::string_view cell);
    void put_line(std::string& line, const std::vector<std::string_view>& cells, bool headings) const;
    std::vector<std::string> headings_;
    std::vector<size_t> width_;        // widest cell per column, rows only
    std::string text_;                 // every cell, back to back
    std::vector<uint32_t> ends_;       // end of each cell in text_
    std::vector<uint32_t> row_start_;  // index of each row's first cell in ends_
    std::vector<std::string_view> cells_; // render_row's scratch
    std::string line_;
};

// Whether text holds a byte a terminal could act on: a C0 control other than
// TAB, DEL, a C1 control (U+0080..U+009F), or a byte that is not part of
// valid UTF-8 (a lone 0x80..0xff is a C1 control to an 8-bit terminal).
bool needs_terminal_escape(std::string_view text);
// text with each such byte written as \xNN (C1 controls: both of their UTF-8
// bytes), so strings from the daemon or a config file cannot move the
// cursor, retitle the window or inject input; printable UTF-8 stays as it is.
std::string terminal_escape(std::string_view text);

} // namespace smcroute
