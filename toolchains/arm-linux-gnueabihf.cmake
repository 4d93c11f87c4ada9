# SPDX-License-Identifier: Apache-2.0
# 32-bit ARM Linux with hardware float (Raspberry Pi 2/3 with a 32-bit OS, ARMv7 routers
# and gateways), built with Debian's g++-arm-linux-gnueabihf against a sysroot from
# toolchains/make-sysroot armhf.
#
#   toolchains/make-sysroot armhf /tmp/sysroot-armhf
#   cmake -S . -B build-armhf -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake \
#     -DMIDGE_SYSROOT=/tmp/sysroot-armhf

set(MIDGE_TARGET_TRIPLE arm-linux-gnueabihf)
set(MIDGE_TARGET_PROCESSOR armv7l)
# Debian armhf's baseline: ARMv7-A, VFPv3 with 16 double registers (no NEON required),
# hard-float calling convention, Thumb-2. Anything narrower would not link against
# Debian's armhf libraries; anything wider would not run on every armhf board.
set(MIDGE_TARGET_CPU_FLAGS "-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb")
set(MIDGE_TARGET_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross-common.cmake)
