# What `cmake --install` puts where. Every path written INTO an installed file (the unit's
# ExecStart, the example configs' hook scripts) is configured here from GNUInstallDirs, so
# it follows CMAKE_INSTALL_PREFIX as given at configure time (stage with DESTDIR, which
# moves the files but keeps the paths inside them right for the final place).
include(GNUInstallDirs)

# Hook scripts are programs run by tund, not by users: libexec (FHS 3.0, Debian policy 9.1.1).
set(TUND_SCRIPTS_DIR ${CMAKE_INSTALL_FULL_LIBEXECDIR}/tund)
# Keys and configs: /etc/tund with prefix /usr, PREFIX/etc/tund otherwise (GNUInstallDirs'
# rule), so an unprivileged install into a private prefix works and the unit reads the
# directory that was installed with it.
set(TUND_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/tund)
# Installed relative to the prefix when it lies under it (so --prefix and CPack staging
# move it), absolutely otherwise (/etc for /usr, /etc/opt/... for /opt/...).
if(TUND_CONFIG_DIR STREQUAL "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}/tund")
  set(_confdest ${CMAKE_INSTALL_SYSCONFDIR}/tund)
else()
  set(_confdest ${TUND_CONFIG_DIR})
endif()

# The unit directory: /lib/systemd/system for prefix /usr (Debian 12's systemd.pc
# systemdsystemunitdir; the package ships there), PREFIX/lib/systemd/system otherwise —
# systemd also loads units from /usr/local/lib/systemd/system, and a private prefix must
# not write outside itself.
set(TUND_SYSTEMD_UNIT_DIR "" CACHE STRING "Where tund@.service is installed (empty: by prefix)")
if(TUND_SYSTEMD_UNIT_DIR)
  set(_unitdir ${TUND_SYSTEMD_UNIT_DIR})
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_unitdir /lib/systemd/system)
else()
  set(_unitdir lib/systemd/system)
endif()

# Documentation= of the unit: the man pages when they are built (scdoc and docs/ present),
# since `systemd-analyze verify` checks that every man: page it names exists.
find_program(TUND_SCDOC_PROGRAM scdoc)
set(TUND_UNIT_DOCS "file://${CMAKE_INSTALL_FULL_DOCDIR}/README.md")
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/man/tund.8.scd AND TUND_SCDOC_PROGRAM)
  set(TUND_UNIT_DOCS "man:tund(8) man:tund.conf(5) ${TUND_UNIT_DOCS}")
endif()

configure_file(systemd/tund@.service.in systemd/tund@.service @ONLY)
configure_file(examples/server.conf.in examples/server.conf @ONLY)
configure_file(examples/client.conf.in examples/client.conf @ONLY)

# `cmake --install --prefix P` moves the files but cannot change the paths configured into
# them; say so rather than install a unit that points elsewhere.
install(CODE "if(NOT CMAKE_INSTALL_PREFIX STREQUAL \"${CMAKE_INSTALL_PREFIX}\")
  message(WARNING \"tund was configured for prefix ${CMAKE_INSTALL_PREFIX}: the unit and example \"
    \"configs name paths there. Configure with -DCMAKE_INSTALL_PREFIX=\${CMAKE_INSTALL_PREFIX} \"
    \"instead, or stage with DESTDIR.\")
endif()")
install(TARGETS tund RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${PROJECT_BINARY_DIR}/systemd/tund@.service DESTINATION ${_unitdir})
# examples/demo.sh is not installed: it builds tund from a checkout (tests/bootstrap.sh).
install(PROGRAMS examples/server-up.sh examples/server-down.sh examples/client-up.sh
                 examples/client-down.sh examples/link-up.sh
        DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/tund)
install(FILES ${PROJECT_BINARY_DIR}/examples/server.conf ${PROJECT_BINARY_DIR}/examples/client.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES README.md docs/PROTOCOL.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The configuration directory holds private keys: root only.
install(DIRECTORY DESTINATION ${_confdest}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
