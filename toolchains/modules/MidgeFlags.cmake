# SPDX-License-Identifier: Apache-2.0
# Compiler flags shared by every Midge target. Shipping targets link midge_flags;
# tests link midge_test_flags, which keeps the warnings but allows exceptions and RTTI
# because Eclipse Paho MQTT C++ reports errors by throwing.

add_library(midge_warnings INTERFACE)
target_compile_options(midge_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor -Wvla
  $<$<COMPILE_LANGUAGE:CXX>:-Wold-style-cast>)
if(MIDGE_WERROR)
  target_compile_options(midge_warnings INTERFACE -Werror)
endif()

add_library(midge_flags INTERFACE)
target_link_libraries(midge_flags INTERFACE midge_warnings)
target_compile_options(midge_flags INTERFACE
  -fvisibility=hidden
  $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fvisibility-inlines-hidden>)

add_library(midge_test_flags INTERFACE)
target_link_libraries(midge_test_flags INTERFACE midge_warnings)

# 64-bit off_t and directory offsets on 32-bit targets (armhf), as on 64-bit ones: without
# it readdir() fails with EOVERFLOW on a file system that returns 64-bit offsets (ext4 seen
# through qemu-user, which CI runs the armhf tests on), and files past 2 GiB cannot be read.
# A no-op on 64-bit targets.
add_compile_definitions(_FILE_OFFSET_BITS=64)

# Hardening for everything we build (libevent's EVENT__ENABLE_GCC_HARDENING is the model).
add_compile_options(-fstack-protector-strong)
if(NOT MIDGE_SANITIZE AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  add_compile_definitions(_FORTIFY_SOURCE=2)
endif()
include(CheckPIESupported)
check_pie_supported()
add_link_options(-Wl,-z,relro,-z,now)

if(MIDGE_SANITIZE)
  # vptr checks need RTTI, which the shipping libraries are built without; tests that use
  # RTTI would otherwise fail to link against them. -g1 keeps the line tables that the
  # sanitizers' reports need and drops the rest, which makes this tree build faster in CI.
  add_compile_options(-O1 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -fno-sanitize=vptr)
  # GCC's flow analysis reports false "maybe uninitialized" on std::optional copies once
  # the sanitizers instrument the code; the normal build keeps the warning as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()

if(MIDGE_SIZE_PROFILE)
  add_compile_options(-Os -ffunction-sections -fdata-sections)
  add_link_options(-Wl,--gc-sections -s)
  add_compile_definitions(NDEBUG)
  set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
endif()
