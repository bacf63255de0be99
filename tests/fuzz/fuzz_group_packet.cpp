// tests/fuzz/fuzz_group_packet: the IGMP and MLD decoders (model/group_packet)
// on arbitrary bytes. The input is decoded as IGMP as it is, as IGMP with its
// checksum made right (so the fuzzer gets past it), and as MLD. Every decoded
// message must be of the family decoded, encode to bytes that decode to the
// same message (the codec is exact), and its MLD encoding with a computed
// checksum must verify. Aborts otherwise.
#include "smcroute/model/group_packet.hpp"
#include "smcroute/model/mrdisc_packet.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

using namespace smcroute;

namespace {

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_group_packet invariant broken: %s\n", what);
        std::abort();
    }
}

// Decoding a copy of exactly the bytes lets ASan see overreads.
GroupDecode decode_exact(Family f, const uint8_t* p, size_t n)
{
    std::unique_ptr<uint8_t[]> buf(new uint8_t[n ? n : 1]);
    if (n)
        std::memcpy(buf.get(), p, n);
    std::span<const uint8_t> s(buf.get(), n);
    return f == Family::inet ? decode_igmp(s) : decode_mld(s);
}

bool of_family(const GroupMessage& m, Family f)
{
    if (m.group.family() != f)
        return false;
    for (const auto& s : m.sources)
        if (s.family() != f)
            return false;
    for (const auto& r : m.records) {
        if (r.group.family() != f)
            return false;
        for (const auto& s : r.sources)
            if (s.family() != f)
                return false;
    }
    return true;
}

void round_trip(Family f, const GroupDecode& d, size_t size)
{
    if (!d.ok()) {
        check(!drop_reason_name(d.drop()).empty() && drop_reason_name(d.drop()) != "?", "unnamed drop reason");
        return;
    }
    const GroupMessage& m = *d;
    check(of_family(m, f), "address of the other family");
    check(m.sources.size() * (f == Family::inet ? 4 : 16) <= size, "more sources than bytes");
    check(m.records.size() * (f == Family::inet ? 8 : 20) <= size, "more records than bytes");
    auto bytes = f == Family::inet ? encode_igmp(m) : encode_mld(m);
    auto again = decode_exact(f, bytes.data(), bytes.size());
    check(again.ok(), "the encoding of a decoded message does not decode");
    check(*again == m, "decode(encode(m)) != m");
    if (f == Family::inet6) {
        in6_addr src{}, dst{};
        src.s6_addr[0] = 0xfe;
        src.s6_addr[1] = 0x80;
        src.s6_addr[15] = 1;
        auto to = group_destination(f, m).v6();
        std::memcpy(&dst, &to, sizeof dst);
        auto summed = encode_mld6(src, dst, m);
        check(icmp6_checksum(src, dst, summed) == 0, "encode_mld6 checksum does not verify");
        summed[2] = summed[3] = 0;
        check(summed == bytes, "encode_mld6 differs from encode_mld beyond the checksum");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    round_trip(Family::inet, decode_exact(Family::inet, data, size), size);
    round_trip(Family::inet6, decode_exact(Family::inet6, data, size), size);
    if (size >= 4) {
        // The same bytes with a checksum that verifies.
        std::unique_ptr<uint8_t[]> fixed(new uint8_t[size]);
        std::memcpy(fixed.get(), data, size);
        fixed[2] = fixed[3] = 0;
        uint16_t cs = internet_checksum(std::span<const uint8_t>(fixed.get(), size));
        fixed[2] = static_cast<uint8_t>(cs >> 8);
        fixed[3] = static_cast<uint8_t>(cs & 0xff);
        auto d = decode_exact(Family::inet, fixed.get(), size);
        check(d.ok() || d.drop() != GroupDrop::bad_checksum, "bad checksum after fixing it");
        round_trip(Family::inet, d, size);
    }
    return 0;
}
