# SPDX-License-Identifier: Apache-2.0
# Bare-metal Cortex-M4F with Debian's gcc-arm-none-eabi and newlib nano
# (packages gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib).
#
#   cmake -S examples/cortex-m -B build-cortex-m -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=examples/cortex-m/arm-none-eabi.cmake
#
# Another core: change MIDGE_MCU_FLAGS (e.g. "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft"
# or "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16"); the multilib that
# matches is picked by the compiler driver from these flags.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(MIDGE_MCU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    CACHE STRING "CPU flags for the microcontroller")

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "objcopy")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "size")

set(CMAKE_C_FLAGS_INIT "${MIDGE_MCU_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${MIDGE_MCU_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${MIDGE_MCU_FLAGS}")
# newlib nano: the small printf/malloc variants. The firmware uses neither, but whatever
# libc code is linked (memcpy, strlen) comes from the nano build.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs")

# A test program cannot link without the firmware's linker script and startup code.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
