// base/stable_hash_map: a hash map for large tables of small fixed-size keys
// (the static routes). Entries never move while they live (callers keep
// pointers to them); lookups probe a flat index of 8-byte slots, so a miss
// or an insert touches about one cache line instead of a node chain. Not a
// general container: no allocator, no iterator stability across erase of
// the iterated entry, iteration order unspecified, and iterating walks the
// freed cells too (they are reused by later inserts).
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace smcroute {

template <class K, class V, class Hash>
class StableHashMap {
public:
    using key_type = K;
    using mapped_type = V;
    using value_type = std::pair<const K, V>;

private:
    struct Cell {
        alignas(value_type) unsigned char storage[sizeof(value_type)];
        bool live = false;
        value_type& value() { return *std::launder(reinterpret_cast<value_type*>(storage)); }
        const value_type& value() const { return *std::launder(reinterpret_cast<const value_type*>(storage)); }
    };

    template <bool Const>
    class Iter {
        using Map = std::conditional_t<Const, const StableHashMap, StableHashMap>;

    public:
        using value_type = StableHashMap::value_type;
        using reference = std::conditional_t<Const, const value_type&, value_type&>;
        using pointer = std::conditional_t<Const, const value_type*, value_type*>;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;

        Iter() = default;
        Iter(Map* m, size_t i) : m_(m), i_(i) { skip(); }
        template <bool C = Const, class = std::enable_if_t<C>>
        Iter(const Iter<false>& o) : m_(o.m_), i_(o.i_)
        {
        }
        reference operator*() const { return m_->cells_[i_].value(); }
        pointer operator->() const { return &m_->cells_[i_].value(); }
        Iter& operator++()
        {
            ++i_;
            skip();
            return *this;
        }
        Iter operator++(int)
        {
            Iter t = *this;
            ++*this;
            return t;
        }
        friend bool operator==(const Iter& a, const Iter& b) { return a.i_ == b.i_; }

    private:
        friend class StableHashMap;
        template <bool>
        friend class Iter;
        void skip()
        {
            while (i_ < m_->cells_.size() && !m_->cells_[i_].live)
                ++i_;
        }
        Map* m_ = nullptr;
        size_t i_ = 0;
    };

public:
    using iterator = Iter<false>;
    using const_iterator = Iter<true>;

    StableHashMap() = default;
    StableHashMap(const StableHashMap&) = delete;
    StableHashMap& operator=(const StableHashMap&) = delete;
    ~StableHashMap() { clear(); }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    iterator begin() { return iterator(this, 0); }
    iterator end() { return iterator(this, cells_.size()); }
    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, cells_.size()); }

    // Room for n entries without growing the index.
    void reserve(size_t n)
    {
        if (n * 2 > index_.size())
            rehash(std::bit_ceil(std::max<size_t>(n * 2, 16)));
    }

    iterator find(const K& key)
    {
        size_t slot = find_slot(key, hash_of(key));
        return slot == npos ? end() : iterator(this, cell_of(index_[slot]));
    }
    const_iterator find(const K& key) const
    {
        size_t slot = find_slot(key, hash_of(key));
        return slot == npos ? end() : const_iterator(this, cell_of(index_[slot]));
    }

    // The entry with this key, made (with V{}) when there is none.
    std::pair<iterator, bool> try_emplace(const K& key)
    {
        uint32_t h = hash_of(key);
        if (size_t slot = find_slot(key, h); slot != npos)
            return {iterator(this, cell_of(index_[slot])), false};
        if ((size_ + 1) * 2 > index_.size())
            rehash(std::max<size_t>(index_.size() * 2, 16));
        size_t cell;
        if (!free_.empty()) {
            cell = free_.back();
            free_.pop_back();
        } else {
            cell = cells_.size();
            cells_.emplace_back();
        }
        new (cells_[cell].storage) value_type(std::piecewise_construct, std::forward_as_tuple(key),
                                              std::forward_as_tuple());
        cells_[cell].live = true;
        ++size_;
        size_t mask = index_.size() - 1;
        size_t pos = h & mask;
        while (index_[pos] != 0)
            pos = (pos + 1) & mask;
        index_[pos] = pack(h, cell);
        return {iterator(this, cell), true};
    }

    // Returns the entry after it. Other entries and iterators stay valid,
    // except that erasing the last entry gives the storage back.
    iterator erase(const_iterator it)
    {
        assert(it.m_ == this && it.i_ < cells_.size() && cells_[it.i_].live);
        size_t cell = it.i_;
        const K& key = cells_[cell].value().first;
        uint32_t h = hash_of(key);
        size_t mask = index_.size() - 1;
        size_t pos = h & mask;
        while (cell_of(index_[pos]) != cell)
            pos = (pos + 1) & mask;
        remove_slot(pos);
        cells_[cell].value().~value_type();
        cells_[cell].live = false;
        free_.push_back(cell);
        --size_;
        if (size_ == 0) { // give the storage back with the last entry
            cells_.clear();
            free_.clear();
            return end();
        }
        return iterator(this, cell + 1);
    }

    void clear()
    {
        for (size_t i = 0; i < cells_.size(); ++i)
            if (Cell& c = cells_[i]; c.live) {
                c.value().~value_type();
                c.live = false;
            }
        cells_.clear();
        free_.clear();
        std::fill(index_.begin(), index_.end(), 0);
        size_ = 0;
    }

private:
    static constexpr size_t npos = ~size_t{0};

    // An index slot: the key's 32-bit hash and its cell + 1 (0: empty).
    static uint64_t pack(uint32_t h, size_t cell) { return uint64_t{h} << 32 | (cell + 1); }
    static uint32_t hash_part(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
    static size_t cell_of(uint64_t slot) { return static_cast<size_t>(slot & 0xffffffffU) - 1; }
    static uint32_t hash_of(const K& key)
    {
        uint64_t h = Hash{}(key);
        return static_cast<uint32_t>(h ^ (h >> 32));
    }

    size_t find_slot(const K& key, uint32_t h) const
    {
        if (index_.empty())
            return npos;
        size_t mask = index_.size() - 1;
        for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
            uint64_t s = index_[pos];
            if (s == 0)
                return npos;
            if (hash_part(s) == h && cells_[cell_of(s)].value().first == key)
                return pos;
        }
    }

    // Linear probing's deletion without tombstones: later entries of the
    // cluster move back into the hole when their home allows it.
    void remove_slot(size_t hole)
    {
        size_t mask = index_.size() - 1;
        size_t pos = hole;
        for (;;) {
            pos = (pos + 1) & mask;
            uint64_t s = index_[pos];
            if (s == 0)
                break;
            size_t home = hash_part(s) & mask;
            // Movable when its home is not in (hole, pos] (cyclically).
            bool in_range = hole <= pos ? (home > hole && home <= pos) : (home > hole || home <= pos);
            if (!in_range) {
                index_[hole] = s;
                hole = pos;
            }
        }
        index_[hole] = 0;
    }

    void rehash(size_t slots)
    {
        assert(std::has_single_bit(slots) && slots <= (size_t{1} << 32));
        std::vector<uint64_t> next(slots, 0);
        size_t mask = slots - 1;
        for (uint64_t s : index_)
            if (s != 0) {
                size_t pos = hash_part(s) & mask;
                while (next[pos] != 0)
                    pos = (pos + 1) & mask;
                next[pos] = s;
            }
        index_ = std::move(next);
    }

    // Cells in fixed chunks of a power-of-two size: they never move, and
    // finding cell i is a shift and a mask.
    class Cells {
    public:
        static constexpr size_t chunk_bits = 8;
        static constexpr size_t chunk_size = size_t{1} << chunk_bits;
        Cell& operator[](size_t i) { return chunks_[i >> chunk_bits][i & (chunk_size - 1)]; }
        const Cell& operator[](size_t i) const { return chunks_[i >> chunk_bits][i & (chunk_size - 1)]; }
        size_t size() const { return size_; }
        void emplace_back()
        {
            if (size_ == chunks_.size() * chunk_size)
                chunks_.push_back(std::unique_ptr<Cell[]>(new Cell[chunk_size])); // storage left unwritten
            ++size_;
        }
        void clear()
        {
            chunks_.clear();
            size_ = 0;
        }

    private:
        std::vector<std::unique_ptr<Cell[]>> chunks_;
        size_t size_ = 0;
    };

    Cells cells_;                 // entries
    std::vector<size_t> free_;  // cells to reuse
    std::vector<uint64_t> index_; // open addressing, power of two, at most half full
    size_t size_ = 0;
};

} // namespace smcroute
