// model/ipc_protocol: the bytes on the IPC socket. A frame is a 12-byte
// header (magic "SMCR", body length, type, version; big-endian fixed-width
// integers) and a body of at most 64 KiB. Encodes and incrementally decodes
// frames; pure, no I/O (fuzzed).
#pragma once

#include "smcroute/base/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

inline constexpr uint32_t ipc_magic = 0x534d4352; // "SMCR"
inline constexpr uint16_t ipc_version = 1;
inline constexpr size_t ipc_header_size = 12;
inline constexpr size_t ipc_max_body = 64 * 1024;
inline constexpr size_t ipc_max_args = 1024;

enum class FrameType : uint16_t { request = 1, row = 2, end = 3 };

// Request flags.
inline constexpr uint32_t req_detail = 1u << 0;   // -d: counters, expansions
inline constexpr uint32_t req_json = 1u << 1;     // -j
inline constexpr uint32_t req_headings = 1u << 2; // print table headings
inline constexpr uint32_t req_all_flags = req_detail | req_json | req_headings;

// args[0] is the canonical verb ("add", "show", ...), the rest its words.
struct Request {
    uint32_t flags = 0;
    std::vector<std::string> args;
    friend bool operator==(const Request&, const Request&) = default;
};

// Exit status for the client (0 ok, else a sysexits code) and a message.
struct EndFrame {
    uint32_t status = 0;
    std::string message;
    friend bool operator==(const EndFrame&, const EndFrame&) = default;
};

struct Frame {
    FrameType type;
    std::string body;
};

// A frame whose body still lies in the reader's buffer.
struct FrameView {
    FrameType type;
    std::string_view body;
};

// A whole frame: header and body (body.size() <= ipc_max_body, asserted).
std::string encode_frame(FrameType type, std::string_view body);

// Encoders return whole frames (header and body).
// Body of a request: flags u32, argc u16, then argc × (len u16, bytes).
// Errors when the frame would exceed ipc_max_body or ipc_max_args, or an
// argument is empty or holds a NUL byte.
Result<std::string> encode_request(const Request& req);
std::string encode_row(std::string_view text);       // text truncated to fit one frame
// The frame encode_row(text) returns, appended to out; and its size.
void append_row(std::string& out, std::string_view text);
size_t row_frame_size(std::string_view text);
std::string encode_end(const EndFrame& end);          // message truncated to fit

// Strict: errors "malformed request: ..." for unknown flags, no or too many
// arguments, lengths past the end, trailing bytes, NUL bytes in an argument,
// an empty argument (no verb, interface, address or subject is empty).
Result<Request> decode_request(std::string_view body);
Result<EndFrame> decode_end(std::string_view body);

// Accumulates bytes from a stream and cuts frames. After an error it stays
// failed: the connection must be closed.
class FrameReader {
public:
    void feed(const char* data, size_t len);
    // A frame, nullopt when more bytes are needed, or an error for a bad
    // magic, unknown version, unknown type or oversized length.
    Result<std::optional<Frame>> next();
    // The same without copying the body: it stays valid until the next call
    // to feed(), next() or next_view().
    Result<std::optional<FrameView>> next_view();
    size_t buffered() const { return buf_.size() - pos_; }

private:
    std::string buf_;
    size_t pos_ = 0;
    bool failed_ = false;
    std::string failure_;
};

} // namespace smcroute
