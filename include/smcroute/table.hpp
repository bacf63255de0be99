// runtime/table: renders `show` output — text tables aligned to the longest
// value in each column, and JSON string escaping. Formatting only; it does not
// know what the rows mean.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

class Table {
public:
    explicit Table(std::vector<std::string> headings) : headings_(std::move(headings)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    // One emit() per line: the heading line when asked, then every row.
    // Columns separated by two spaces; the last column is not padded.
    void render(bool headings, const std::function<void(std::string_view)>& emit) const;

private:
    std::vector<std::string> headings_;
    std::vector<std::vector<std::string>> rows_;
};

// "text" with JSON escapes, including the quotes.
std::string json_string(std::string_view text);

} // namespace smcroute
