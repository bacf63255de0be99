// model/config: the configuration file as a value. Lexes and parses phyint,
// mroute, mgroup and include lines into a Config, collecting every located
// diagnostic in one pass. Reads files only through a FileSource, so it can run
// on an in-memory file set (tests, fuzzing). Never touches kernel state.
#pragma once

#include "smcroute/route_spec.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace smcroute {

struct SourceLoc {
    std::string file;
    unsigned line = 0;
};

template <class T>
struct Located {
    T spec;
    SourceLoc loc;
};

struct Config {
    std::vector<Located<PhyintSpec>> phyints;
    std::vector<Located<RouteSpec>> routes;
    std::vector<Located<JoinSpec>> joins;
};

// "file:line:col: error: message", then the offending line and a caret
// under column col; for included files, "  included from file:line" lines.
struct Diagnostic {
    std::string file;
    unsigned line = 0;
    unsigned col = 1; // 1-based, in bytes
    Severity severity = Severity::error;
    std::string message;
    std::string source_line; // the whole line, without its newline ('' if none)
    std::vector<SourceLoc> include_chain; // innermost first
    std::string format() const;
};

// Where the parser reads files from.
class FileSource {
public:
    virtual ~FileSource() = default;
    // Whole file. Errors say why: "No such file or directory", "Is a directory".
    virtual Result<std::string> read(const std::string& path) = 0;
    // Sorted paths matching a glob pattern (no match: empty).
    virtual std::vector<std::string> glob(const std::string& pattern) = 0;
};

// The real filesystem.
std::unique_ptr<FileSource> make_disk_files();

// Fixed contents keyed by path; glob supports '*' and '?'. For tests and fuzzing.
class MemoryFiles final : public FileSource {
public:
    std::map<std::string, std::string> files;
    Result<std::string> read(const std::string& path) override;
    std::vector<std::string> glob(const std::string& pattern) override;
};

struct ParseOptions {
    size_t max_join_expansion = default_max_join_expansion;
    unsigned max_include_depth = 16;
};

struct ParseResult {
    Config config; // every valid line, even when there are errors
    std::vector<Diagnostic> diagnostics; // in file order, errors and warnings
    size_t error_count() const;
};

// Parse the file at path (its includes resolved relative to its directory).
ParseResult parse_config_file(const std::string& path, FileSource& files, const ParseOptions& opts = {});
// Parse text as though it were the file `name`.
ParseResult parse_config_text(std::string_view text, const std::string& name, FileSource& files,
                              const ParseOptions& opts = {});

} // namespace smcroute
