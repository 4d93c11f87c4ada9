# SPDX-License-Identifier: Apache-2.0
# 64-bit ARM Linux (Raspberry Pi 3/4/5 with a 64-bit OS, arm64 gateways), built with
# Debian's g++-aarch64-linux-gnu against a sysroot from toolchains/make-sysroot arm64.
#
#   toolchains/make-sysroot arm64 /tmp/sysroot-arm64
#   cmake -S . -B build-aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake \
#     -DMIDGE_SYSROOT=/tmp/sysroot-arm64

set(MIDGE_TARGET_TRIPLE aarch64-linux-gnu)
set(MIDGE_TARGET_PROCESSOR aarch64)
# Generic ARMv8-A, the baseline of Debian arm64: runs on every 64-bit ARM board.
set(MIDGE_TARGET_CPU_FLAGS "-march=armv8-a")
set(MIDGE_TARGET_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross-common.cmake)
