# SPDX-License-Identifier: Apache-2.0
# Debian's libwslay-dev ships neither a pkg-config file nor a CMake package usable for
# every build type (its export names only the "None" configuration), so this module finds
# the header and library itself; it also works inside a cross sysroot.
# Result: Wslay_FOUND and the imported target Wslay::wslay. wslayver.h is not used for a
# version check: Debian's 1.1.1 package still says "1.0.1-DEV" there.
find_path(Wslay_INCLUDE_DIR NAMES wslay/wslay.h)
find_library(Wslay_LIBRARY NAMES wslay)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Wslay REQUIRED_VARS Wslay_LIBRARY Wslay_INCLUDE_DIR)

if(Wslay_FOUND AND NOT TARGET Wslay::wslay)
  add_library(Wslay::wslay UNKNOWN IMPORTED)
  set_target_properties(Wslay::wslay PROPERTIES
    IMPORTED_LOCATION "${Wslay_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Wslay_INCLUDE_DIR}")
endif()
mark_as_advanced(Wslay_INCLUDE_DIR Wslay_LIBRARY)
