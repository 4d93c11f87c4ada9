# SPDX-License-Identifier: Apache-2.0
# Shared part of the Debian cross toolchain files. The per-target file sets
# MIDGE_TARGET_TRIPLE (GNU triplet, also Debian's multiarch directory),
# MIDGE_TARGET_PROCESSOR, MIDGE_TARGET_CPU_FLAGS and MIDGE_TARGET_QEMU, then includes this.
#
# Two trees are searched for the target:
#   /usr/<triple>   the cross compiler's own libc and libstdc++ (Debian's cross packages)
#   MIDGE_SYSROOT   the target's libevent, mbedTLS, SQLite, GTest, Paho and OpenSSL,
#                   unpacked from Debian's arm packages by toolchains/make-sysroot
# MIDGE_SYSROOT is not passed to the compiler as --sysroot because it holds no libc:
# that stays with the cross compiler, exactly as Debian installs it.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${MIDGE_TARGET_PROCESSOR})
set(CMAKE_LIBRARY_ARCHITECTURE ${MIDGE_TARGET_TRIPLE})

set(CMAKE_C_COMPILER ${MIDGE_TARGET_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${MIDGE_TARGET_TRIPLE}-g++)
set(CMAKE_C_FLAGS_INIT "${MIDGE_TARGET_CPU_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${MIDGE_TARGET_CPU_FLAGS}")

# The cache variable wins over the environment; the environment variable is exported back
# so that the nested configure of try_compile() sees the same sysroot.
if(NOT MIDGE_SYSROOT AND DEFINED ENV{MIDGE_SYSROOT})
  set(MIDGE_SYSROOT "$ENV{MIDGE_SYSROOT}")
endif()
set(MIDGE_SYSROOT "${MIDGE_SYSROOT}" CACHE PATH
    "Target libraries unpacked by toolchains/make-sysroot")
if(NOT MIDGE_SYSROOT OR NOT IS_DIRECTORY "${MIDGE_SYSROOT}/usr")
  message(FATAL_ERROR
    "MIDGE_SYSROOT='${MIDGE_SYSROOT}' is not a sysroot. Create one with "
    "'toolchains/make-sysroot <arm64|armhf> DIR' and pass -DMIDGE_SYSROOT=DIR "
    "(or export MIDGE_SYSROOT=DIR).")
endif()
get_filename_component(MIDGE_SYSROOT "${MIDGE_SYSROOT}" ABSOLUTE)
set(ENV{MIDGE_SYSROOT} "${MIDGE_SYSROOT}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MIDGE_SYSROOT)

set(MIDGE_SYSROOT_LIB_DIRS
    "${MIDGE_SYSROOT}/usr/lib/${MIDGE_TARGET_TRIPLE}"
    "${MIDGE_SYSROOT}/lib/${MIDGE_TARGET_TRIPLE}")

# Static executables for boards whose C library is not Debian's glibc (OpenWrt: musl).
# Test clients (Paho C++) exist only as shared libraries: build with
# -DMIDGE_BUILD_TESTS=OFF, and run the tests on a dynamic build.
set(MIDGE_STATIC "${MIDGE_STATIC}" CACHE BOOL "Link executables statically (static-pie)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MIDGE_STATIC)
if(MIDGE_STATIC)
  set(CMAKE_PROJECT_INCLUDE ${CMAKE_CURRENT_LIST_DIR}/static-link.cmake)
endif()

# Headers, libraries and package configs only from the target trees; build tools
# (pkg-config, qemu, python) from the host.
set(CMAKE_FIND_ROOT_PATH "${MIDGE_SYSROOT}" "/usr/${MIDGE_TARGET_TRIPLE}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must never fall back to the host's .pc files: a host libevent would
# configure fine and then fail at link time with an x86-64 library.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${MIDGE_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${MIDGE_SYSROOT}/usr/lib/${MIDGE_TARGET_TRIPLE}/pkgconfig:${MIDGE_SYSROOT}/usr/lib/pkgconfig:${MIDGE_SYSROOT}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# Shared libraries in the sysroot need each other (Paho C++ -> Paho C -> OpenSSL); the
# linker resolves those indirect dependencies only through -rpath-link.
set(_midge_rpath_link "")
foreach(dir IN LISTS MIDGE_SYSROOT_LIB_DIRS)
  string(APPEND _midge_rpath_link " -Wl,-rpath-link,${dir}")
endforeach()
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_INIT "${_midge_rpath_link}")
endforeach()
unset(_midge_rpath_link)

# ctest (and gtest_discover_tests) run target binaries through qemu-user: -L makes the
# cross compiler's libc the target's root, -E points the target's loader at the sysroot.
find_program(MIDGE_QEMU_PROGRAM NAMES ${MIDGE_TARGET_QEMU} NO_CMAKE_FIND_ROOT_PATH)
if(MIDGE_QEMU_PROGRAM)
  string(REPLACE ";" ":" _midge_ld_path "${MIDGE_SYSROOT_LIB_DIRS}")
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${MIDGE_QEMU_PROGRAM};-L;/usr/${MIDGE_TARGET_TRIPLE};-E;LD_LIBRARY_PATH=${_midge_ld_path}")
  # The same command as a script in the build directory, for people and for test
  # harnesses that start target programs themselves: this host has no binfmt_misc entry
  # for ARM, so an exec of an ARM binary fails unless it goes through qemu.
  # Tests that exec a target program (midge, midge-passwd) prefix it with
  # MIDGE_TARGET_LAUNCHER when it is set; it is empty in a native build.
  set(MIDGE_TARGET_LAUNCHER "${CMAKE_BINARY_DIR}/run-on-target")
  get_property(_midge_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
  if(NOT _midge_in_try_compile)
    file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/run-on-target" @ONLY CONTENT [=[
#!/bin/sh
# Runs a program of this build (@MIDGE_TARGET_TRIPLE@) under qemu-user:
#   ./run-on-target broker/midge -p 1883
exec "@MIDGE_QEMU_PROGRAM@" -L "/usr/@MIDGE_TARGET_TRIPLE@" -E "LD_LIBRARY_PATH=@_midge_ld_path@" "$@"
]=])
    file(CHMOD "${CMAKE_BINARY_DIR}/run-on-target"
         PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                     WORLD_READ WORLD_EXECUTE)
  endif()
  unset(_midge_in_try_compile)
  unset(_midge_ld_path)
else()
  message(WARNING "${MIDGE_TARGET_QEMU} not found (Debian: qemu-user): tests will not run")
endif()
