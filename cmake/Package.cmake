# The Debian package, built by CPack from the install rules (cmake/Install.cmake,
# docs/CMakeLists.txt: one source of truth for what goes where). packaging/build-deb.sh
# configures a Release build for prefix /usr and runs it; by hand:
# `cmake --build BUILD --target package` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr.
# Debian specifics that CPack does not do itself (man pages and changelog compressed,
# binaries stripped as dh_strip does) are done on the staged tree by
# packaging/debian-policy.cmake before the archive is made.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tund)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tund maintainers <maintainers@users.noreply.b-seed-7b6c0a74.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TUN/TAP tunnel daemon with optional Noise encryption")
# The extended description: CPack puts the summary first, indents each line and turns an
# empty line into " .".
set(CPACK_PACKAGE_DESCRIPTION "tund connects two Linux hosts with a virtual network link: each side
attaches to a TUN device (IP packets) or a TAP device (Ethernet frames) and
relays every packet to the other side over one TCP connection or over UDP.

It is the successor of simpletun (same flags, same plaintext TCP wire
format), with reconnection, keepalives, counters, TUN offloads and batched
UDP I/O, up/down hook scripts for NAT and routes, config files, a hardened
Type=notify systemd unit (tund@NAME reads /etc/tund/NAME.conf) and optional
authenticated encryption (the Noise IK handshake on libsodium).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tund_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the binary's ELF needs (libsodium23, libc6, libstdc++6, libgcc-s1).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
# The hook scripts in libexec/tund (which the example configs use) need ip and sysctl, and
# nft or iptables for NAT; tund itself does not, so these are recommended, not required.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iproute2, procps, nftables | iptables")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Maintainer scripts: `systemctl daemon-reload`, and /etc/tund private on first install.
configure_file(packaging/postinst packaging/postinst COPYONLY)
configure_file(packaging/postrm packaging/postrm COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/postinst ${PROJECT_BINARY_DIR}/packaging/postrm)

# Debian's documentation requirements: copyright and a changelog in /usr/share/doc/tund.
configure_file(packaging/changelog.in packaging/changelog @ONLY)
install(FILES packaging/copyright ${PROJECT_BINARY_DIR}/packaging/changelog
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/debian-policy.cmake)

include(CPack)
