# dist/package.cmake: install rules for the service files and CPack settings
# for a Debian package (`cpack -G DEB` in a build directory). Included at the
# end of the top-level CMakeLists.txt.
#
# Files outside the install prefix (/etc, /lib/systemd) belong to the
# component "dist", which is EXCLUDE_FROM_ALL: plain `cmake --install`
# (or `make install`) never writes them, the package always has them, and
#     DESTDIR=/tmp/root cmake --install build --component dist
# installs them by hand.

# ------------------------------------------------------------ install rules

# Under the prefix, part of every install: bash completion (one file; the
# links let bash-completion's on-demand loader find it by command name) and
# man page names for the two personalities.
set(SMCROUTE_COMPLETIONSDIR ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/smcroute.bash-completion
        DESTINATION ${SMCROUTE_COMPLETIONSDIR} RENAME smcroute)
install(CODE "
  foreach(link smcrouted smcroutectl)
    execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink smcroute
      \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SMCROUTE_COMPLETIONSDIR}/\${link}\")
    execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink smcroute.8
      \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man8/\${link}.8\")
  endforeach()")

# Absolute paths, as Debian's own smcroute package has them. The unit goes
# to /lib/systemd/system, not /usr/lib/...: on a merged-/usr system dpkg
# would otherwise delete it when it removes the old package's copy of the
# "other" path during the upgrade from Debian's smcroute.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/smcroute.service
        DESTINATION /lib/systemd/system COMPONENT dist EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/smcroute.default
        DESTINATION /etc/default RENAME smcroute COMPONENT dist EXCLUDE_FROM_ALL)
install(PROGRAMS ${CMAKE_CURRENT_LIST_DIR}/smcroute.init
        DESTINATION /etc/init.d RENAME smcroute COMPONENT dist EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright COMPONENT dist EXCLUDE_FROM_ALL)
# /etc/smcroute.conf is no file of the package: Debian's smcroute 2.x ships
# none and administrators write their own, which a conffile of the same name
# would turn into a dpkg prompt (or an error without a terminal) on the
# upgrade. The postinst copies the example (entirely commented out: no
# routes until the administrator writes some) there when there is none, and
# the postrm removes that copy on purge if it was made so.

# ------------------------------------------------------------------- CPack

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME smcroute)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "smcroute project")
set(SMCROUTE_MAINTAINER "smcroute maintainers <root@localhost>" CACHE STRING
    "Maintainer field of the Debian package (Name <email>)")
set(CPACK_PACKAGE_CONTACT "${SMCROUTE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "static multicast routing daemon and client")
set(CPACK_PACKAGE_DESCRIPTION
  "smcroute forwards IPv4 and IPv6 multicast between interfaces as it is told:
(S,G) routes, and (*,G) and prefix rules answered the moment a new source
appears. One executable is both the daemon, which owns the kernel's
multicast routing sockets, and its client; through the links smcrouted and
smcroutectl it is a drop-in replacement for SMCRoute 2.x.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)

# Stage with DESTDIR, so that the absolute destinations above land in the
# package and never in the build machine's /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Everything (the default component) plus the dist component, one package.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_BINARY_DIR};${PROJECT_NAME};Unspecified;/"
    "${CMAKE_BINARY_DIR};${PROJECT_NAME};dist;/")

set(CPACK_DEBIAN_PACKAGE_NAME smcroute)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)

# Replacing Debian's smcroute. This package has the same name, smcroute,
# and a higher version (3.x; Debian ships 2.5.x), so dpkg and apt treat
# installing it as an upgrade of Debian's package: only one of the two can
# ever be installed (the conflict), and this one takes over every file and
# conffile of the other, /etc/init.d/smcroute and the unit included (the
# replacement). Scripts and unit options written for Debian's package keep
# working through the smcrouted/smcroutectl links.
# We deliberately declare no Conflicts/Replaces/Breaks on "smcroute": a
# package never conflicts with itself, so dpkg and apt would ignore such
# self-relations, and they would only mislead a reader. Nor an epoch: an
# epoch is forever; should Debian ever ship a higher smcroute, pin it down.
# (Naming the package differently, with Provides/Conflicts/Replaces:
# smcroute, would also work, but scripts and `apt-get install smcroute` expect
# this name.)

# Depends: computed by dpkg-shlibdeps (package dpkg-dev) from the binary's
# actual libraries and symbol versions — including libasan/libubsan for a
# sanitized build, which such a package really needs. Without dpkg-shlibdeps
# the list is written by hand (a release build is static: none).
find_program(SMCROUTE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(SMCROUTE_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  message(STATUS "dpkg-shlibdeps not found (package dpkg-dev): the .deb's Depends is written by hand")
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  if(SMCROUTE_SANITIZE)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, libgcc-s1")
  elseif(NOT SMCROUTE_STATIC)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6") # libstdc++ and libgcc are linked statically
  endif() # a static program (SMCROUTE_STATIC) depends on no library
endif()

# conffiles: every file the package puts under /etc, so that dpkg keeps the
# administrator's edits on upgrade and removal (until purge).
set(SMCROUTE_CONFFILES /etc/default/smcroute /etc/init.d/smcroute)
list(JOIN SMCROUTE_CONFFILES "\n" SMCROUTE_CONFFILES_TEXT)
file(WRITE ${CMAKE_BINARY_DIR}/debian-control/conffiles "${SMCROUTE_CONFFILES_TEXT}\n")
# Maintainer scripts (dist/debian/): postinst enables and starts the daemon on
# install and restarts it on upgrade (Debian's smcroute 2.x included), prerm
# stops it on removal, postrm cleans up on purge; with systemd as PID 1 or
# through the init script without it. CONTROL_STRICT_PERMISSION makes them
# 0755 in the package.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/debian-control/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)

include(CPack)
