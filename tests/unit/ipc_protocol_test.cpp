#include "smcroute/model/ipc_protocol.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace smcroute;

namespace {

std::string be32(uint32_t v)
{
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8)
        s.push_back(static_cast<char>((v >> shift) & 0xff));
    return s;
}

std::string be16(uint16_t v)
{
    return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

std::string header(uint32_t magic, uint32_t len, uint16_t type, uint16_t version)
{
    return be32(magic) + be32(len) + be16(type) + be16(version);
}

std::string body_of(const std::string& frame)
{
    return frame.substr(ipc_header_size);
}

Request sample()
{
    return Request{req_detail | req_json, {"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"}};
}

// Feeds everything, returns all frames cut; fails the test on a reader error.
std::vector<Frame> cut_all(FrameReader& r)
{
    std::vector<Frame> out;
    for (;;) {
        auto f = r.next();
        EXPECT_TRUE(f.ok()) << f.error().message;
        if (!f || !*f)
            return out;
        out.push_back(std::move(**f));
    }
}

std::string reader_error(const std::string& bytes)
{
    FrameReader r;
    r.feed(bytes.data(), bytes.size());
    auto f = r.next();
    if (f)
        return "(no error)";
    return f.error().message;
}

} // namespace

TEST(IpcProtocol, RequestWireFormatIsBigEndian)
{
    auto frame = encode_request(Request{req_headings, {"show", "ab"}});
    ASSERT_TRUE(frame.ok());
    std::string want = header(0x534d4352, 4 + 2 + 2 + 4 + 2 + 2, 1, 1) + be32(4) + be16(2) + be16(4) + "show" +
                       be16(2) + "ab";
    EXPECT_EQ(*frame, want);
    EXPECT_EQ(frame->substr(0, 4), "SMCR");
}

TEST(IpcProtocol, RequestRoundTrip)
{
    auto frame = encode_request(sample());
    ASSERT_TRUE(frame.ok());
    FrameReader r;
    r.feed(frame->data(), frame->size());
    auto frames = cut_all(r);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].type, FrameType::request);
    auto req = decode_request(frames[0].body);
    ASSERT_TRUE(req.ok()) << req.error().message;
    EXPECT_EQ(*req, sample());
    EXPECT_EQ(r.buffered(), 0u);
}

// No verb, interface, address or subject is empty: neither end takes one.
TEST(IpcProtocol, RequestWithEmptyArgumentIsRefused)
{
    auto frame = encode_request(Request{0, {"add", "b1", "", "225.1.2.9", "b2"}});
    ASSERT_FALSE(frame.ok());
    EXPECT_EQ(frame.error().message, "request argument 3 is empty");
    EXPECT_FALSE(encode_request(Request{0, {""}}).ok());

    // The bytes a client that skips the check would send.
    std::string body = be32(0) + be16(3) + be16(3) + "add" + be16(0) + be16(2) + "b1";
    auto req = decode_request(body);
    ASSERT_FALSE(req.ok());
    EXPECT_EQ(req.error().message, "malformed request: argument 2 is empty");
    EXPECT_EQ(decode_request(be32(0) + be16(1) + be16(0)).error().message, "malformed request: argument 1 is empty");
}

TEST(IpcProtocol, RowAndEndRoundTrip)
{
    std::string rows = encode_row("first row") + encode_row("") + encode_end(EndFrame{78, "config error: oops"});
    FrameReader r;
    r.feed(rows.data(), rows.size());
    auto frames = cut_all(r);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].type, FrameType::row);
    EXPECT_EQ(frames[0].body, "first row");
    EXPECT_EQ(frames[1].type, FrameType::row);
    EXPECT_EQ(frames[1].body, "");
    EXPECT_EQ(frames[2].type, FrameType::end);
    auto end = decode_end(frames[2].body);
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(*end, (EndFrame{78, "config error: oops"}));
}

TEST(IpcProtocol, EndWithEmptyMessage)
{
    auto end = decode_end(body_of(encode_end(EndFrame{0, ""})));
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(*end, (EndFrame{0, ""}));
    EXPECT_FALSE(decode_end("abc").ok());
}

TEST(IpcProtocol, LongRowAndEndAreTruncatedToOneFrame)
{
    std::string big(ipc_max_body + 100, 'x');
    std::string row = encode_row(big);
    EXPECT_EQ(row.size(), ipc_header_size + ipc_max_body);
    std::string end = encode_end(EndFrame{1, big});
    EXPECT_EQ(end.size(), ipc_header_size + ipc_max_body);
    FrameReader r;
    r.feed(row.data(), row.size());
    r.feed(end.data(), end.size());
    auto frames = cut_all(r);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].body, big.substr(0, ipc_max_body));
    auto e = decode_end(frames[1].body);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->message.size(), ipc_max_body - 4);
}

TEST(IpcProtocol, AppendRowEncodesInPlace)
{
    std::string big(ipc_max_body + 100, 'x');
    for (std::string_view text : {std::string_view("a row"), std::string_view(""), std::string_view(big)}) {
        std::string out = "prefix";
        append_row(out, text);
        EXPECT_EQ(out, "prefix" + encode_row(text));
        EXPECT_EQ(row_frame_size(text), encode_row(text).size());
    }
}

TEST(IpcProtocol, NextViewSeesTheSameFramesWithoutCopies)
{
    std::string stream = encode_row("one") + encode_row("") + encode_row(std::string(5000, 'z')) +
                         encode_end(EndFrame{3, "bye"});
    FrameReader copies, views;
    copies.feed(stream.data(), stream.size());
    // Fed in odd pieces, each view consumed before the next feed.
    std::vector<std::pair<FrameType, std::string>> seen;
    for (size_t at = 0; at < stream.size(); at += 777) {
        std::string piece = stream.substr(at, 777);
        views.feed(piece.data(), piece.size());
        for (auto v = views.next_view(); v && *v; v = views.next_view())
            seen.emplace_back((*v)->type, std::string((*v)->body));
    }
    auto frames = cut_all(copies);
    ASSERT_EQ(seen.size(), frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        EXPECT_EQ(seen[i].first, frames[i].type);
        EXPECT_EQ(seen[i].second, frames[i].body);
    }
    EXPECT_EQ(views.buffered(), 0u);
    // Errors are the same and sticky.
    std::string bad = "XXXXXXXXXXXXXXXX";
    views.feed(bad.data(), bad.size());
    EXPECT_FALSE(views.next_view().ok());
    EXPECT_FALSE(views.next().ok());
}

TEST(IpcProtocol, EncodeRequestRefusesOversize)
{
    // 6 + 2 + N == 65536 fits exactly; one more byte does not.
    Request fits{0, {std::string(ipc_max_body - 8, 'a')}};
    auto ok = encode_request(fits);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->size(), ipc_header_size + ipc_max_body);
    auto back = decode_request(body_of(*ok));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, fits);

    Request big{0, {std::string(ipc_max_body - 7, 'a')}};
    auto err = encode_request(big);
    ASSERT_FALSE(err.ok());
    EXPECT_EQ(err.error().message, "request too large: 65537 bytes, at most 65536");

    Request huge{0, {std::string(100000, 'a')}};
    ASSERT_FALSE(encode_request(huge).ok());
}

TEST(IpcProtocol, EncodeRequestRefusesBadRequests)
{
    EXPECT_FALSE(encode_request(Request{0, {}}).ok());
    EXPECT_FALSE(encode_request(Request{0, std::vector<std::string>(ipc_max_args + 1, "x")}).ok());
    EXPECT_TRUE(encode_request(Request{0, std::vector<std::string>(ipc_max_args, "x")}).ok());
    EXPECT_FALSE(encode_request(Request{1u << 7, {"show"}}).ok());
    EXPECT_FALSE(encode_request(Request{0, {std::string("a\0b", 3)}}).ok());
}

TEST(IpcProtocol, DecodeRequestErrors)
{
    auto msg = [](const std::string& body) {
        auto r = decode_request(body);
        return r ? std::string("(decoded)") : r.error().message;
    };
    std::string good = body_of(*encode_request(Request{0, {"show", "routes"}}));
    ASSERT_TRUE(decode_request(good).ok());

    EXPECT_EQ(msg(""), "malformed request: body of 0 bytes is shorter than its 6-byte header");
    EXPECT_EQ(msg(be32(0) + be16(0)), "malformed request: no arguments");
    EXPECT_EQ(msg(be32(0x80) + be16(1) + be16(1) + "x"), "malformed request: unknown flags 0x80");
    EXPECT_EQ(msg(be32(0) + be16(1025)), "malformed request: 1025 arguments, at most 1024");
    EXPECT_EQ(msg(be32(0) + be16(2) + be16(1) + "x"), "malformed request: argument 2 of 2 is missing");
    EXPECT_EQ(msg(be32(0) + be16(1) + be16(5) + "abc"),
              "malformed request: argument 1 of 1 runs past the end (5 bytes, 3 left)");
    EXPECT_EQ(msg(good + "z"), "malformed request: 1 trailing bytes after the last argument");
    EXPECT_EQ(msg(be32(0) + be16(1) + be16(3) + std::string("a\0b", 3)),
              "malformed request: argument 1 contains a NUL byte");
    // a length byte split off at the end
    EXPECT_EQ(msg(be32(0) + be16(1) + "\x01"), "malformed request: argument 1 of 1 is missing");
}

TEST(IpcProtocol, TruncatedFramesFedByteByByte)
{
    std::string stream = *encode_request(sample()) + encode_row("a row") + encode_end(EndFrame{0, "ok"});
    FrameReader r;
    std::vector<Frame> frames;
    for (size_t i = 0; i < stream.size(); ++i) {
        r.feed(&stream[i], 1);
        auto f = r.next();
        ASSERT_TRUE(f.ok()) << f.error().message;
        if (*f)
            frames.push_back(std::move(**f));
        // No frame may appear before its last byte arrived.
        size_t boundary1 = stream.size() - encode_row("a row").size() - encode_end(EndFrame{0, "ok"}).size();
        if (i + 1 < boundary1) {
            EXPECT_TRUE(frames.empty());
        }
    }
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(*decode_request(frames[0].body), sample());
    EXPECT_EQ(frames[1].body, "a row");
    EXPECT_EQ(*decode_end(frames[2].body), (EndFrame{0, "ok"}));
    EXPECT_EQ(r.buffered(), 0u);
}

TEST(IpcProtocol, ZeroLengthBodyIsAFrameButNotARequest)
{
    std::string frame = header(ipc_magic, 0, 1, 1);
    FrameReader r;
    r.feed(frame.data(), frame.size());
    auto f = r.next();
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->has_value());
    EXPECT_EQ((*f)->type, FrameType::request);
    EXPECT_EQ((*f)->body, "");
    EXPECT_FALSE(decode_request((*f)->body).ok());
}

TEST(IpcProtocol, OversizedLengths)
{
    EXPECT_EQ(reader_error(header(ipc_magic, 65537, 1, 1)), "frame too large: 65537 bytes, at most 65536");
    EXPECT_EQ(reader_error(header(ipc_magic, 16u << 20, 2, 1)), "frame too large: 16777216 bytes, at most 65536");
    EXPECT_EQ(reader_error(header(ipc_magic, UINT32_MAX, 3, 1)),
              "frame too large: 4294967295 bytes, at most 65536");
    // exactly the limit is fine (waits for the body)
    EXPECT_EQ(reader_error(header(ipc_magic, 65536, 1, 1)), "(no error)");
}

TEST(IpcProtocol, BadHeaders)
{
    EXPECT_EQ(reader_error(header(0x534d4353, 4, 3, 1) + be32(0)), "bad frame magic");
    EXPECT_EQ(reader_error("GET / HTTP/1.1\r\n\r\n"), "bad frame magic");
    EXPECT_EQ(reader_error(header(ipc_magic, 4, 3, 2) + be32(0)), "unsupported protocol version 2 (expected 1)");
    EXPECT_EQ(reader_error(header(ipc_magic, 4, 3, 0) + be32(0)), "unsupported protocol version 0 (expected 1)");
    EXPECT_EQ(reader_error(header(ipc_magic, 4, 0, 1) + be32(0)), "unknown frame type 0");
    EXPECT_EQ(reader_error(header(ipc_magic, 4, 4, 1) + be32(0)), "unknown frame type 4");
    EXPECT_EQ(reader_error(header(ipc_magic, 4, 65535, 1) + be32(0)), "unknown frame type 65535");
}

TEST(IpcProtocol, ReaderStaysFailed)
{
    FrameReader r;
    std::string bad = header(0, 0, 1, 1);
    r.feed(bad.data(), bad.size());
    ASSERT_FALSE(r.next().ok());
    std::string good = encode_row("x");
    r.feed(good.data(), good.size());
    auto f = r.next();
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message, "bad frame magic");
}

TEST(IpcProtocol, EverySingleByteCorruptionIsHandled)
{
    std::string frame = *encode_request(sample());
    size_t decoded = 0, errors = 0;
    for (size_t i = 0; i < frame.size(); ++i) {
        for (int delta : {1, 0x80, 0xff}) {
            std::string bad = frame;
            bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ delta);
            FrameReader r;
            r.feed(bad.data(), bad.size());
            auto f = r.next();
            if (!f) {
                ++errors;
                continue;
            }
            if (!*f) { // length grew: waits for more bytes
                ++errors;
                continue;
            }
            auto req = decode_request((*f)->body);
            if (req)
                ++decoded;
            else
                ++errors;
            if (req && i >= ipc_header_size) {
                // A request that still decodes differs from the original.
                EXPECT_NE(*req, sample()) << "byte " << i;
            }
        }
    }
    EXPECT_GT(decoded, 0u);
    EXPECT_GT(errors, 0u);
}

TEST(IpcProtocol, TruncatedRequestBodiesNeverDecode)
{
    std::string body = body_of(*encode_request(sample()));
    for (size_t len = 0; len < body.size(); ++len)
        EXPECT_FALSE(decode_request(body.substr(0, len)).ok()) << len;
}

TEST(IpcProtocol, RandomBytesNeverCrash)
{
    std::mt19937 rng(12345);
    for (int round = 0; round < 2000; ++round) {
        std::string bytes(rng() % 200, '\0');
        for (auto& c : bytes)
            c = static_cast<char>(rng());
        // Half the rounds get a valid header so the body decoder is exercised.
        if (round % 2 == 0 && bytes.size() >= ipc_header_size)
            bytes.replace(0, ipc_header_size,
                          header(ipc_magic, static_cast<uint32_t>(bytes.size() - ipc_header_size),
                                 static_cast<uint16_t>(1 + rng() % 3), 1));
        FrameReader r;
        size_t at = 0;
        while (at < bytes.size()) {
            size_t n = std::min<size_t>(1 + rng() % 16, bytes.size() - at);
            r.feed(bytes.data() + at, n);
            at += n;
            for (;;) {
                auto f = r.next();
                if (!f || !*f)
                    break;
                (void)decode_request((*f)->body);
                (void)decode_end((*f)->body);
            }
        }
        (void)decode_request(bytes);
    }
}

TEST(IpcProtocol, ManySmallFramesAreLinear)
{
    // 200k frames through one reader, fed in odd-sized pieces: quadratic
    // buffer handling would take minutes here.
    std::string one = encode_row("0123456789");
    std::string stream;
    for (int i = 0; i < 200000; ++i)
        stream += one;
    FrameReader all;
    all.feed(stream.data(), stream.size()); // erasing at the front per frame: ~400 GB of copying
    size_t frames = 0;
    for (;;) {
        auto f = all.next();
        ASSERT_TRUE(f.ok());
        if (!*f)
            break;
        ++frames;
    }
    EXPECT_EQ(frames, 200000u);

    FrameReader r;
    frames = 0;
    for (size_t at = 0; at < stream.size(); at += 4093) {
        r.feed(stream.data() + at, std::min<size_t>(4093, stream.size() - at));
        for (;;) {
            auto f = r.next();
            ASSERT_TRUE(f.ok());
            if (!*f)
                break;
            ++frames;
        }
    }
    EXPECT_EQ(frames, 200000u);
    EXPECT_EQ(r.buffered(), 0u);
}
