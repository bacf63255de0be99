#include "smcroute/model/ipc_protocol.hpp"

#include "smcroute/base/text.hpp"

#include <algorithm>
#include <cassert>

namespace smcroute {

namespace {

void put_u16(std::string& out, uint16_t v)
{
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

void put_u32(std::string& out, uint32_t v)
{
    put_u16(out, static_cast<uint16_t>(v >> 16));
    put_u16(out, static_cast<uint16_t>(v & 0xffff));
}

uint16_t get_u16(std::string_view in, size_t at)
{
    return static_cast<uint16_t>((static_cast<uint8_t>(in[at]) << 8) | static_cast<uint8_t>(in[at + 1]));
}

uint32_t get_u32(std::string_view in, size_t at)
{
    return (static_cast<uint32_t>(get_u16(in, at)) << 16) | get_u16(in, at + 2);
}

Error malformed(const std::string& what)
{
    return fail("malformed request: " + what);
}

} // namespace

namespace {

void append_frame(std::string& out, FrameType type, std::string_view body)
{
    assert(body.size() <= ipc_max_body);
    // The header in one append: this runs once per row of a long `show`.
    const uint32_t len = static_cast<uint32_t>(body.size());
    const uint16_t t = static_cast<uint16_t>(type);
    const char header[ipc_header_size] = {
        static_cast<char>(ipc_magic >> 24), static_cast<char>(ipc_magic >> 16 & 0xff),
        static_cast<char>(ipc_magic >> 8 & 0xff), static_cast<char>(ipc_magic & 0xff),
        static_cast<char>(len >> 24), static_cast<char>(len >> 16 & 0xff),
        static_cast<char>(len >> 8 & 0xff), static_cast<char>(len & 0xff),
        static_cast<char>(t >> 8), static_cast<char>(t & 0xff),
        static_cast<char>(ipc_version >> 8), static_cast<char>(ipc_version & 0xff)};
    out.append(header, sizeof header);
    out.append(body);
}

} // namespace

std::string encode_frame(FrameType type, std::string_view body)
{
    std::string out;
    out.reserve(ipc_header_size + body.size());
    append_frame(out, type, body);
    return out;
}

Result<std::string> encode_request(const Request& req)
{
    if (req.args.empty())
        return fail("request has no arguments");
    if (req.args.size() > ipc_max_args)
        return fail(cat("request has too many arguments: ", req.args.size(), ", at most ", ipc_max_args));
    if (req.flags & ~req_all_flags)
        return fail(cat("request has unknown flags 0x", hex(req.flags & ~req_all_flags)));
    size_t size = 4 + 2;
    for (const auto& arg : req.args)
        size += 2 + arg.size();
    if (size > ipc_max_body)
        return fail(cat("request too large: ", size, " bytes, at most ", ipc_max_body));
    for (size_t i = 0; i < req.args.size(); ++i) {
        if (req.args[i].find('\0') != std::string::npos)
            return fail(cat("request argument ", i + 1, " contains a NUL byte"));
        if (req.args[i].empty())
            return fail(cat("request argument ", i + 1, " is empty"));
    }

    std::string body;
    body.reserve(size);
    put_u32(body, req.flags);
    put_u16(body, static_cast<uint16_t>(req.args.size()));
    for (const auto& arg : req.args) {
        put_u16(body, static_cast<uint16_t>(arg.size())); // < ipc_max_body, checked above
        body.append(arg);
    }
    return encode_frame(FrameType::request, body);
}

std::string encode_row(std::string_view text)
{
    return encode_frame(FrameType::row, text.substr(0, ipc_max_body));
}

void append_row(std::string& out, std::string_view text)
{
    append_frame(out, FrameType::row, text.substr(0, ipc_max_body));
}

size_t row_frame_size(std::string_view text)
{
    return ipc_header_size + std::min(text.size(), ipc_max_body);
}

std::string encode_end(const EndFrame& end)
{
    std::string body;
    put_u32(body, end.status);
    body.append(std::string_view(end.message).substr(0, ipc_max_body - 4));
    return encode_frame(FrameType::end, body);
}

Result<Request> decode_request(std::string_view body)
{
    if (body.size() > ipc_max_body)
        return malformed(cat(body.size(), " bytes, at most ", ipc_max_body));
    if (body.size() < 6)
        return malformed(cat("body of ", body.size(), " bytes is shorter than its 6-byte header"));
    Request req;
    req.flags = get_u32(body, 0);
    if (req.flags & ~req_all_flags)
        return malformed(cat("unknown flags 0x", hex(req.flags & ~req_all_flags)));
    size_t argc = get_u16(body, 4);
    if (argc == 0)
        return malformed("no arguments");
    if (argc > ipc_max_args)
        return malformed(cat(argc, " arguments, at most ", ipc_max_args));
    req.args.reserve(argc);
    size_t at = 6;
    for (size_t i = 0; i < argc; ++i) {
        if (body.size() - at < 2)
            return malformed(cat("argument ", i + 1, " of ", argc, " is missing"));
        size_t len = get_u16(body, at);
        at += 2;
        if (body.size() - at < len)
            return malformed(cat("argument ", i + 1, " of ", argc, " runs past the end (", len, " bytes, ",
                                 body.size() - at, " left)"));
        std::string_view arg = body.substr(at, len);
        if (arg.find('\0') != std::string_view::npos)
            return malformed(cat("argument ", i + 1, " contains a NUL byte"));
        if (arg.empty())
            return malformed(cat("argument ", i + 1, " is empty"));
        req.args.emplace_back(arg);
        at += len;
    }
    if (at != body.size())
        return malformed(cat(body.size() - at, " trailing bytes after the last argument"));
    return req;
}

Result<EndFrame> decode_end(std::string_view body)
{
    if (body.size() < 4)
        return fail(cat("malformed end frame: body of ", body.size(), " bytes, at least 4 expected"));
    if (body.size() > ipc_max_body)
        return fail(cat("malformed end frame: ", body.size(), " bytes, at most ", ipc_max_body));
    return EndFrame{get_u32(body, 0), std::string(body.substr(4))};
}

void FrameReader::feed(const char* data, size_t len)
{
    if (failed_ || len == 0)
        return;
    // Drop consumed bytes when they are at least half the buffer: each byte is
    // moved at most once per byte consumed, so the total cost stays linear.
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 0 && pos_ >= buf_.size() - pos_) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(data, len);
}

Result<std::optional<Frame>> FrameReader::next()
{
    auto view = next_view();
    if (!view)
        return view.take_error();
    if (!*view)
        return std::optional<Frame>{};
    Frame frame{(*view)->type, std::string((*view)->body)};
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
    return std::optional<Frame>{std::move(frame)};
}

Result<std::optional<FrameView>> FrameReader::next_view()
{
    if (failed_)
        return fail(failure_);
    if (buffered() < ipc_header_size)
        return std::optional<FrameView>{};
    std::string_view rest(buf_);
    rest.remove_prefix(pos_);

    uint32_t magic = get_u32(rest, 0);
    uint32_t length = get_u32(rest, 4);
    uint16_t type = get_u16(rest, 8);
    uint16_t version = get_u16(rest, 10);
    if (magic != ipc_magic)
        failure_ = "bad frame magic";
    else if (version != ipc_version)
        failure_ = cat("unsupported protocol version ", version, " (expected ", ipc_version, ")");
    else if (type < static_cast<uint16_t>(FrameType::request) || type > static_cast<uint16_t>(FrameType::end))
        failure_ = cat("unknown frame type ", type);
    else if (length > ipc_max_body)
        failure_ = cat("frame too large: ", length, " bytes, at most ", ipc_max_body);
    if (!failure_.empty()) {
        failed_ = true;
        buf_.clear();
        buf_.shrink_to_fit();
        pos_ = 0;
        return fail(failure_);
    }

    if (rest.size() - ipc_header_size < length)
        return std::optional<FrameView>{};
    FrameView frame{static_cast<FrameType>(type), rest.substr(ipc_header_size, length)};
    pos_ += ipc_header_size + length; // feed() drops consumed bytes later
    return std::optional<FrameView>{frame};
}

} // namespace smcroute
