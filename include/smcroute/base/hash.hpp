// base/hash: the one way this program hashes: FNV-1a over bytes, a
// well-mixed hash of two 64-bit words, and hash_combine to fold the hashes
// of a key's fields into one. Every hash functor of a table key uses these.
#pragma once

#include <cstddef>
#include <cstdint>

namespace smcroute {

// FNV-1a, 64 bit, over len bytes.
size_t hash_bytes(const void* data, size_t len);

// A well-mixed hash of two 64-bit words (for fixed-size keys): every input
// bit reaches every output bit.
size_t hash_words(uint64_t a, uint64_t b);

// The hash of a key with more than one field: fold each field's hash in
// turn, hash_combine(hash_combine(h(a), h(b)), h(c)). Order matters.
inline size_t hash_combine(size_t seed, size_t value) noexcept
{
    return hash_words(seed, value);
}

template <typename... Rest>
size_t hash_all(size_t first, Rest... rest) noexcept
{
    size_t h = first;
    ((h = hash_combine(h, static_cast<size_t>(rest))), ...);
    return h;
}

} // namespace smcroute
