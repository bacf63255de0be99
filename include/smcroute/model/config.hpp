// model/config: the configuration file as a value. Lexes and parses phyint
// (with the IGMP/MLD proxy's words: PhyintSpec::proxy), mroute, mgroup and
// include lines into a Config, collecting every located diagnostic
// (model/config_diagnostics) in one pass. Reads files only through a
// FileSource: the disk's (os/config_files) or an in-memory file set
// (MemoryFiles: tests, fuzzing). Never opens a file itself, never touches
// kernel state.
#pragma once

#include "smcroute/model/config_diagnostics.hpp"
#include "smcroute/model/route_spec.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace smcroute {

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

// Where the parser reads files from: os/config_files has the disk's.
class FileSource {
public:
    virtual ~FileSource() = default;
    // Whole file. Errors say why: "No such file or directory", "Is a directory".
    virtual Result<std::string> read(const std::string& path) = 0;
    // Sorted paths matching a glob pattern (no match: empty).
    virtual std::vector<std::string> glob(const std::string& pattern) = 0;
};

// Fixed contents keyed by path; glob supports '*' and '?'. For tests and fuzzing.
class MemoryFiles final : public FileSource {
public:
    std::map<std::string, std::string> files;
    Result<std::string> read(const std::string& path) override;
    std::vector<std::string> glob(const std::string& pattern) override;
};

// What one config may expand to, its includes (and repeated includes)
// counted: going over a limit is an error at the include (or line) that went
// over, naming the limit, and nothing after it is read. The defaults take
// the 100 000 routes the daemon is measured with, 2.5 times over (and ten
// times as many lines), and bound a parse to about 60 MB.
struct ParseOptions {
    size_t max_join_expansion = default_max_join_expansion; // joins one mgroup line may expand to
    unsigned max_include_depth = 16;       // includes nested in includes
    size_t max_include_matches = 1024;     // files one include line may read (glob matches)
    size_t max_files = 4096;               // files read, the top one included
    size_t max_lines = 1000000;            // lines read, comments and blank lines included
    size_t max_bytes = size_t{256} << 20;  // bytes read
    size_t max_entries = 250000;           // mroute, mgroup and phyint lines kept
    size_t max_joins = 65536;              // joins after range expansion
    // Diagnostics kept: past max_errors one last error says so and the parse
    // stops; warnings past max_warnings are dropped.
    size_t max_errors = 1000;
    size_t max_warnings = 1000;
    // Polled every interrupt_every lines and before each include; true
    // abandons the parse (ParseResult::interrupted). A daemon told to exit
    // stops reloading a big config at once.
    std::function<bool()> interrupted = {};
    size_t interrupt_every = 4096;
};

struct ParseResult {
    Config config; // every valid line, even when there are errors
    std::vector<Diagnostic> diagnostics; // in file order, errors and warnings
    bool interrupted = false; // ParseOptions::interrupted said stop: config is incomplete
    size_t error_count() const;
};

// Parse the file at path (its includes resolved relative to its directory).
ParseResult parse_config_file(const std::string& path, FileSource& files, const ParseOptions& opts = {});
// Parse text as though it were the file `name`.
ParseResult parse_config_text(std::string_view text, const std::string& name, FileSource& files,
                              const ParseOptions& opts = {});

} // namespace smcroute
