// tests/fuzz/fuzz_accounts: the passwd(5)/group(5) readers of
// model/account_db on arbitrary text. The first line of the input is the
// name looked up (and, as a number, the id); the rest is the database.
// Checks that whatever is found is what was asked for.
#include "smcroute/model/account_db.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace smcroute;

namespace {

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_accounts invariant broken: %s\n", what);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    size_t nl = in.find('\n');
    std::string_view name = in.substr(0, nl);
    std::string_view text = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    auto id = parse_account_id(name);
    if (auto e = passwd_by_name(text, name))
        check(e->name == name && !name.empty() && name.find(':') == std::string_view::npos, "passwd by name");
    if (auto e = group_by_name(text, name))
        check(e->name == name && !name.empty(), "group by name");
    if (id) {
        check(*id != UINT32_MAX, "id -1 accepted");
        if (auto e = passwd_by_uid(text, *id))
            check(e->id == *id && !e->name.empty(), "passwd by uid");
        if (auto e = group_by_gid(text, *id))
            check(e->id == *id && !e->name.empty(), "group by gid");
    }
    return 0;
}
