# SPDX-License-Identifier: Apache-2.0
# The Debian package "midge", built by CPack from a normal build directory:
#
#   cmake -S . -B build -G Ninja -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build
#   (cd build && cpack)          # -> build/midge_0.2.0-1_amd64.deb
#
# A cross build directory (toolchains/*.cmake) gives the arm64 or armhf package the same
# way; .ci/cross ARCH --package does it. Included from the top-level CMakeLists.txt after
# every install() rule, so the package holds exactly what "cmake --install" installs,
# plus the Debian files below (maintainer scripts, conffiles, copyright, changelogs).
set(midge_deb_dir ${CMAKE_CURRENT_LIST_DIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME midge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The Midge authors")
# Who answers for the package: a distributor sets a real address here.
set(MIDGE_DEB_MAINTAINER "Midge maintainers <maintainers@midge.invalid>" CACHE STRING
    "Maintainer field of the midge package")
set(CPACK_PACKAGE_CONTACT "${MIDGE_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "small MQTT 3.1/3.1.1/5.0 broker for IoT gateways and servers")
# CPack puts the summary above this as the synopsis line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Midge is an MQTT broker that speaks MQTT 3.1, 3.1.1 and 5.0, with QoS 0/1/2,
retained messages, wills, durable sessions, shared subscriptions and TLS.
It reads Mosquitto's configuration, password and ACL file formats.
.
With persistence on, an acknowledgement from the broker means the message is
committed to an SQLite database, so a crash loses no acknowledged message.
.
This package installs the broker as a systemd service running as the system
user midge, with its configuration in /etc/midge and its data in
/var/lib/midge, and the midge-passwd tool.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Debian revision 1 of the upstream version; a rebuild with packaging changes only
# raises it (-DMIDGE_DEB_REVISION=2).
set(MIDGE_DEB_REVISION 1 CACHE STRING "Debian revision of the midge package")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${MIDGE_DEB_REVISION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
# The package's files are owned by root with Debian's modes; directories the broker
# writes are made by the postinst, since their owner (midge) exists only from then on.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})

if(CMAKE_CROSSCOMPILING)
  # dpkg-shlibdeps would look the target's libraries up in the host's dpkg database, which
  # does not have them: name them here, as the libraries Debian 12 packages under.
  if(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "aarch64-linux-gnu")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  elseif(CMAKE_LIBRARY_ARCHITECTURE STREQUAL "arm-linux-gnueabihf")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE armhf)
  else()
    message(WARNING "No Debian architecture known for ${CMAKE_LIBRARY_ARCHITECTURE}; "
                    "set CPACK_DEBIAN_PACKAGE_ARCHITECTURE")
  endif()
  if(MIDGE_STATIC)
    set(midge_deb_depends "")
  else()
    set(midge_deb_depends "libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 11)")
    string(APPEND midge_deb_depends ", libevent-core-2.1-7 (>= 2.1.8-stable), libmbedcrypto7 (>= 2.28)")
    if(MIDGE_WITH_TLS)
      string(APPEND midge_deb_depends ", libmbedtls14 (>= 2.28), libmbedx509-1 (>= 2.28)")
    endif()
    if(MIDGE_WITH_SQLITE)
      string(APPEND midge_deb_depends ", libsqlite3-0 (>= 3.40)")
    endif()
    if(MIDGE_WITH_WEBSOCKETS)
      string(APPEND midge_deb_depends ", libwslay1 (>= 1.1)")
    endif()
  endif()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${midge_deb_depends}")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
# The maintainer scripts use useradd (passwd) and dpkg-statoverride (dpkg), both always
# installed on Debian; sysusers is used when systemd is there.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto-clients")

set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${midge_deb_dir}/conffiles
    ${midge_deb_dir}/postinst
    ${midge_deb_dir}/prerm
    ${midge_deb_dir}/postrm)

# Run on the staged tree before it is packed: compress the man pages and changelogs as
# Debian policy asks, add copyright and the lintian overrides.
# The changelog entry is dated with the last commit, so a rebuild gives the same file.
execute_process(COMMAND git -C ${PROJECT_SOURCE_DIR} log -1 --format=%aD
                OUTPUT_VARIABLE MIDGE_DEB_CHANGELOG_DATE OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT MIDGE_DEB_CHANGELOG_DATE)
  string(TIMESTAMP MIDGE_DEB_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
endif()
set(MIDGE_DEB_STRIP "${CMAKE_STRIP}")
configure_file(${midge_deb_dir}/stage-debian-files.cmake.in
               ${CMAKE_BINARY_DIR}/midge-stage-debian-files.cmake @ONLY)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_BINARY_DIR}/midge-stage-debian-files.cmake)

include(CPack)
