#include "smcroute/os/memory.hpp"

#include <malloc.h>

namespace smcroute {

void release_free_memory()
{
    ::malloc_trim(0);
}

} // namespace smcroute
