// tests/fuzz/fuzz_ipc: the IPC protocol and the daemon's request handling.
// Byte 0 picks the chunking of the stream and the peer; the rest is the byte
// stream a client sends. A FrameReader cuts it (fed in pseudo-random chunks),
// every frame is decoded by type, whatever decodes is re-encoded and must give
// back the same bytes, and every decoded request is handed to a Control over
// a Router on fake kernels, as a privileged peer (or, when bit 7 of byte 0 is
// set, an unprivileged one, which must change nothing). Aborts on a broken
// invariant.
#include "fake_kernel.hpp"

#include "smcroute/runtime/control.hpp"
#include "smcroute/model/ipc_protocol.hpp"

#include <net/if.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace smcroute;

namespace {

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_ipc invariant broken: %s\n", what);
        std::abort();
    }
}

class CheckingReply final : public Reply {
public:
    void row(std::string_view text) override
    {
        check(ends == 0, "row after end");
        // What the server would send must decode again.
        std::string f = encode_row(text);
        check(f.size() >= ipc_header_size && f.size() - ipc_header_size <= ipc_max_body, "row frame size");
    }
    void end(uint32_t, std::string_view message) override
    {
        ++ends;
        EndFrame e{0, std::string(message)};
        std::string f = encode_end(e);
        check(f.size() - ipc_header_size <= ipc_max_body, "end frame size");
    }
    int ends = 0;
};

Interface make_iface(const char* name, unsigned index, unsigned flags = IFF_UP | IFF_MULTICAST)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = flags;
    return i;
}

struct Daemon {
    Daemon()
    {
        log.set_level(LogLevel::none);
        router.set_interfaces({make_iface("lo", 1, IFF_UP | IFF_LOOPBACK), make_iface("eth0", 2), make_iface("eth1", 3),
                               make_iface("eth2", 4), make_iface("vlan10", 5), make_iface("down0", 6, IFF_MULTICAST)});
    }
    Logger log;
    test::FakeKernel k4{Family::inet};
    test::FakeKernel k6{Family::inet6};
    Router router{log, &k4, &k6};
    int kills = 0, reloads = 0;
    Control control{router, log,
                    Control::Hooks{[this] { ++kills; },
                                   [this] {
                                       ++reloads;
                                       return Status{};
                                   },
                                   [] { return std::string("smcroute fuzz"); },
                                   [](bool) { return Control::Hooks::DryRun{0, {"no changes"}, ""}; },
                                   [] { return static_cast<const Config*>(nullptr); }}};
};

void round_trip(const Frame& frame, Daemon& d, const Peer& peer)
{
    const std::string original = encode_frame(frame.type, frame.body);
    switch (frame.type) {
    case FrameType::request: {
        auto req = decode_request(frame.body);
        if (!req) {
            check(req.error().message.rfind("malformed request", 0) == 0, "request error text");
            return;
        }
        check(!req->args.empty(), "decoded request without arguments");
        auto again = encode_request(*req);
        check(again.ok(), "a decoded request does not encode");
        check(*again == original, "request round trip changed the bytes");

        const size_t statics = d.router.static_count(), rules = d.router.rule_count();
        const size_t mfc4 = d.k4.mfc.size(), mfc6 = d.k6.mfc.size();
        const int kills = d.kills, reloads = d.reloads;
        CheckingReply reply;
        d.control.handle(*req, peer, reply);
        check(reply.ends == 1, "request not answered by exactly one end");
        if (!peer.may_change_state) {
            check(d.router.static_count() == statics && d.router.rule_count() == rules,
                  "unprivileged peer changed the routes");
            check(d.k4.mfc.size() == mfc4 && d.k6.mfc.size() == mfc6, "unprivileged peer changed the kernel");
            check(d.kills == kills && d.reloads == reloads, "unprivileged peer killed or reloaded");
        }
        check(d.k4.misuse.empty() && d.k6.misuse.empty(), "router misused the (fake) kernel");
        return;
    }
    case FrameType::end: {
        auto end = decode_end(frame.body);
        if (!end)
            return;
        std::string again = encode_end(*end);
        check(again == original, "end round trip changed the bytes");
        auto back = decode_end(std::string_view(again).substr(ipc_header_size));
        check(back.ok() && *back == *end, "end does not decode again");
        return;
    }
    case FrameType::row:
        check(encode_row(frame.body) == original, "row round trip changed the bytes");
        return;
    }
    check(false, "frame of an unknown type");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t rng = data[0] * 2654435761u + 1;
    Peer peer;
    peer.may_change_state = (data[0] & 0x80) == 0;
    peer.uid = peer.may_change_state ? 0 : 1000;
    ++data;
    --size;

    Daemon d;
    FrameReader reader;
    size_t pos = 0;
    bool failed = false;
    while (!failed) {
        if (pos < size) {
            rng = rng * 1103515245u + 12345u;
            size_t chunk = 1 + (rng >> 16) % ((rng & 0x8000) ? 4096 : 16);
            chunk = std::min(chunk, size - pos);
            reader.feed(reinterpret_cast<const char*>(data) + pos, chunk);
            pos += chunk;
        }
        for (;;) {
            auto next = reader.next();
            if (!next) {
                failed = true;
                // Stays failed.
                reader.feed("SMCR", 4);
                check(!reader.next().ok(), "reader recovered after an error");
                break;
            }
            if (!*next)
                break;
            const Frame& frame = **next;
            check(frame.body.size() <= ipc_max_body, "oversized frame body");
            round_trip(frame, d, peer);
        }
        if (pos >= size)
            break;
    }
    if (!failed)
        check(reader.buffered() < ipc_header_size + ipc_max_body, "reader holds more than a frame");
    d.router.clear();
    check(d.k4.mfc.empty() && d.k6.mfc.empty(), "clear() left kernel entries");
    check(d.k4.vifs.empty() && d.k6.vifs.empty(), "clear() left VIFs");
    return 0;
}
