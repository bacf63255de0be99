// os/memory: gives the C library's free heap memory back to the kernel.
// The daemon calls it after a burst (a config load, a crowd of clients with
// large answers leaving), so its resident size returns near what the live
// tables need instead of keeping the burst's peak for its whole life.
#pragma once

namespace smcroute {

// Return free heap pages to the kernel (glibc: malloc_trim(0), which also
// releases free pages in the middle of the heap). Costs a walk of the free
// lists: call it after a burst, not on every free.
void release_free_memory();

} // namespace smcroute
