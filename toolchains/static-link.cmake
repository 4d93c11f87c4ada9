# SPDX-License-Identifier: Apache-2.0
# Included at the end of project() when MIDGE_STATIC is on (see linux-cross-common.cmake):
# the platform files read during project() set the library suffixes and link options,
# so this has to come after them.
#
# A static executable carries its own C library and so runs on any Linux kernel of the
# same CPU family, whatever its libc: Raspberry Pi OS, Yocto, and musl-based OpenWrt.
# Static glibc resolves only numeric addresses and local users without its NSS modules,
# which is all a broker's listener lines need.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)

# CMake links position-independent executables with CMAKE_<LANG>_LINK_OPTIONS_PIE. Keep
# ASLR with -static-pie where the C library supports it (its rcrt1.o exists: Debian arm64
# yes, armhf no); otherwise a plain static link of the same PIE-compiled objects.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=rcrt1.o
                OUTPUT_VARIABLE _midge_rcrt1 OUTPUT_STRIP_TRAILING_WHITESPACE)
if(IS_ABSOLUTE "${_midge_rcrt1}")
  set(_midge_static_pie -fPIE -static-pie)
else()
  set(_midge_static_pie -static)
endif()
foreach(lang C CXX)
  set(CMAKE_${lang}_LINK_OPTIONS_PIE ${_midge_static_pie})
  set(CMAKE_${lang}_LINK_OPTIONS_NO_PIE -static)
endforeach()
unset(_midge_static_pie)
unset(_midge_rcrt1)
