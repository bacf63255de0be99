#include "smcroute/base/hash.hpp"

namespace smcroute {

size_t hash_bytes(const void* data, size_t len)
{
    // FNV-1a, 64 bit.
    auto p = static_cast<const unsigned char*>(data);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; ++i) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return static_cast<size_t>(h);
}

size_t hash_words(uint64_t a, uint64_t b)
{
    // Two rounds of multiply and fold (the 64-bit murmur finaliser's
    // constants): every input bit reaches every output bit.
    uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return static_cast<size_t>(h);
}

} // namespace smcroute
