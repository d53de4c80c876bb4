# Run by CPack (CPACK_PRE_BUILD_SCRIPTS) on the staged install tree before the .deb is
# made: what Debian policy asks beyond the install rules (policy 12.1 and 12.7): man pages
# and the changelog compressed with `gzip -9n` (no timestamp, so builds are reproducible),
# and the binaries stripped as dh_strip does (debug symbols, .comment and .note sections).
if(NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  # A Debian package installs under /usr (policy 9.1.2: never /usr/local), and the paths
  # configured into the unit and configs come from CMAKE_INSTALL_PREFIX.
  message(FATAL_ERROR "the Debian package needs a build configured with "
                      "-DCMAKE_INSTALL_PREFIX=/usr (this one: ${CPACK_PACKAGING_INSTALL_PREFIX}); "
                      "packaging/build-deb.sh does that")
endif()
set(stage ${CPACK_TEMPORARY_INSTALL_DIRECTORY})
file(GLOB_RECURSE manpages ${stage}/*/share/man/man*/*.[0-9])
file(GLOB_RECURSE changelogs ${stage}/*/share/doc/tund/changelog)
foreach(f IN LISTS manpages changelogs)
  execute_process(COMMAND gzip -9nf ${f} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip -9n ${f} failed")
  endif()
endforeach()

file(GLOB programs ${stage}/*/sbin/* ${stage}/sbin/*)
foreach(f IN LISTS programs)
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note
                          --strip-unneeded ${f} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip ${f} failed")
  endif()
endforeach()
