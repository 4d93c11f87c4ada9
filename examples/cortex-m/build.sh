#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Cortex-M4F firmware with Debian's gcc-arm-none-eabi and newlib nano, checks
# that no heap allocator was linked, and prints the size. For CI and for a first try.
#
#   examples/cortex-m/build.sh [BUILD_DIR] [extra cmake arguments...]
#   e.g. examples/cortex-m/build.sh /tmp/fw -DMIDGE_BROKER_HOST=10.0.0.2
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-cortex-m}
[ $# -gt 0 ] && shift

for tool in arm-none-eabi-g++ arm-none-eabi-size arm-none-eabi-nm cmake; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "build.sh: $tool not found (apt-get install gcc-arm-none-eabi" \
         "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib cmake)" >&2
    exit 2
  }
done

generator=
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"
# shellcheck disable=SC2086
cmake -S "$here" -B "$build" $generator \
  -DCMAKE_TOOLCHAIN_FILE="$here/arm-none-eabi.cmake" -DMIDGE_WERROR=ON "$@"
cmake --build "$build" -j2

elf="$build/firmware.elf"
# The firmware promises no heap: malloc (or the _sbrk behind it) in the image means some
# code path allocates, which runtime.cpp would turn into a fault at run time.
if arm-none-eabi-nm "$elf" | grep -Eq ' T (malloc|_malloc_r|_sbrk|_sbrk_r)$'; then
  echo "build.sh: a heap allocator was linked into $elf:" >&2
  arm-none-eabi-nm "$elf" | grep -E ' (malloc|_malloc_r|_sbrk|_sbrk_r)$' >&2
  exit 1
fi

echo "firmware: $elf (no heap allocator linked)"
arm-none-eabi-size "$elf"
