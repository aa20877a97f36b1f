# SPDX-License-Identifier: BSD-3-Clause
# package.cmake - install layout and `cpack -G DEB` (included last by the
# top-level CMakeLists.txt, once every target exists).
#
#   cmake --build build && (cd build && cpack -G DEB)   ->  turnpike_<ver>-1_<arch>.deb
#
# The package installs under /usr: the binaries, the manual pages (gzip'd, from
# tools/gen-man), the systemd unit in /lib/systemd/system, the sysctl.d file,
# and /etc/turnpike/turnpike.conf as a conffile: conf/turnpike.conf with
# demo-user = false, so an installed (and started) server never makes a demo
# credential on 0.0.0.0 and refuses allocations until users or secrets are
# configured. Depends comes from dpkg-shlibdeps, plus adduser for the postinst,
# which creates the system user "turnpike" (conf/debian/).

# Binaries: turnpike and turnpike-probe have their rules in their directories;
# turnpikectl when its target is part of this build. Not tp-bench (it runs the
# build tree's turnpike) nor dc-client (component dc-client, left out below).
if(TARGET turnpikectl)
  install(TARGETS turnpikectl RUNTIME DESTINATION bin)
endif()

# The packaged configuration: the documented example with the demo user off.
set(tp_conf_src ${PROJECT_SOURCE_DIR}/conf/turnpike.conf)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${tp_conf_src})
file(READ ${tp_conf_src} tp_conf_text)
string(REGEX REPLACE "\ndemo-user = true;\n" "\ndemo-user = false;\n" tp_pkg_conf "${tp_conf_text}")
if(tp_pkg_conf STREQUAL tp_conf_text)
  message(FATAL_ERROR "conf/turnpike.conf: no \"demo-user = true;\" line to turn off "
                      "for the packaged configuration (cmake/package.cmake)")
endif()
string(REPLACE "# turnpike.conf - the Turnpike STUN/TURN server configuration (libconfig syntax).\n"
  "# turnpike.conf - the Turnpike STUN/TURN server configuration (libconfig syntax).\n#\n# As installed by the turnpike package: the demo user is off, so until\n# users or static-auth-secret are set, allocations are refused.\n"
  tp_pkg_conf "${tp_pkg_conf}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/pkg/turnpike.conf CONTENT "${tp_pkg_conf}" @ONLY)

# Never over an existing file: `make install` on a configured host keeps the
# administrator's configuration (a package's staging directory starts empty, and
# dpkg handles the conffile on upgrades).
install(CODE "
  if(EXISTS \"\$ENV{DESTDIR}/etc/turnpike/turnpike.conf\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}/etc/turnpike/turnpike.conf\")
  else()
    file(INSTALL DESTINATION /etc/turnpike TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES \"${PROJECT_BINARY_DIR}/pkg/turnpike.conf\")
  endif()")
install(FILES ${PROJECT_SOURCE_DIR}/conf/turnpike.service DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/conf/60-turnpike.sysctl DESTINATION lib/sysctl.d
        RENAME 60-turnpike.conf PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/turnpike
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION share/doc/turnpike RENAME copyright
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME turnpike)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "Turnpike developers <turnpike@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "STUN/TURN relay server for WebRTC")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Turnpike answers STUN Binding requests and relays media and data for WebRTC
clients over UDP, TCP, TLS and DTLS (RFC 8489, RFC 8656, RFC 6062), with
long-term and TURN REST API credentials and a deny-by-default peer policy.
Includes turnpike-probe, a connectivity and NAT diagnostic client.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/conf/debian/conffiles
  ${PROJECT_SOURCE_DIR}/conf/debian/postinst
  ${PROJECT_SOURCE_DIR}/conf/debian/prerm
  ${PROJECT_SOURCE_DIR}/conf/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
# The default install component only: a build with tests and dc-client is
# packaged the same as a plain one.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};Unspecified;/")
include(CPack)
