// SPDX-License-Identifier: Apache-2.0
// The C++ runtime pieces a heap-less bare-metal image provides itself.
//
// No heap: the linker script reserves none, and these definitions make any allocation a
// loud failure instead of a silent pull of malloc and _sbrk from newlib. The tiny client
// and the codec decoders it calls do not allocate for MQTT 3.1.1 (the host test
// HotPathDoesNotAllocate checks it); the codec's std::vector paths (v5 properties, SUBACK
// lists, the vector encoders) are still compiled in, and reaching one here means a new
// code path needs a look.
//
// abort: std::vector's length checks call std::__throw_length_error, which in a
// -fno-exceptions libstdc++ ends in abort(). newlib's abort raises SIGABRT through
// _kill/_getpid and its signal table, which allocates; a fault handler is what a board wants.
#include <cstddef>
#include <new>

#include "examples/cortex-m/firmware/board.hpp"

void* operator new(std::size_t) { board::fatal("operator new on a heap-less target"); }
void* operator new[](std::size_t) { board::fatal("operator new[] on a heap-less target"); }
void operator delete(void*) noexcept {}
void operator delete[](void*) noexcept {}
void operator delete(void*, std::size_t) noexcept {}
void operator delete[](void*, std::size_t) noexcept {}

extern "C" void abort() { board::fatal("abort"); }
