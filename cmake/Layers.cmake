# Build-enforced layering (ARCHITECTURE.md, "Dependency direction"). For each line of
# cmake/layers.txt this builds an include tree in the build directory,
#   build/layers/<module>/tund/<entry> -> include/tund/<entry>   (symbolic links)
# and tund_sees(<target> <module>) gives a target that tree alone, PRIVATE, so include
# directories never travel along target_link_libraries: a module that includes a header
# outside its arrows fails to compile ("No such file or directory"), whatever it links.
# Generated headers (build/generated/<module>/tund/<module>/...) are seen by the same rule.
# The test `layering_build` (cmake/CheckLayers.cmake) proves it for every module and header.

set(TUND_LAYERS_FILE ${PROJECT_SOURCE_DIR}/cmake/layers.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TUND_LAYERS_FILE})

file(STRINGS ${TUND_LAYERS_FILE} _tund_layer_lines REGEX "^[a-z_]+:")
set(TUND_LAYER_MODULES "")
file(REMOVE_RECURSE ${PROJECT_BINARY_DIR}/layers)
foreach(_line IN LISTS _tund_layer_lines)
  string(REGEX MATCH "^([a-z_]+):(.*)$" _match "${_line}")
  set(_module ${CMAKE_MATCH_1})
  separate_arguments(_entries UNIX_COMMAND "${CMAKE_MATCH_2}")
  list(APPEND TUND_LAYER_MODULES ${_module})
  set(TUND_LAYER_${_module} ${_entries})
  foreach(_entry IN LISTS _entries)
    set(_target ${PROJECT_SOURCE_DIR}/include/tund/${_entry})
    if(NOT EXISTS ${_target} AND NOT _entry STREQUAL _module)
      message(FATAL_ERROR "cmake/layers.txt: ${_module} may include '${_entry}', "
                          "but include/tund/${_entry} does not exist")
    endif()
    set(_link ${PROJECT_BINARY_DIR}/layers/${_module}/tund/${_entry})
    get_filename_component(_parent ${_link} DIRECTORY)
    file(MAKE_DIRECTORY ${_parent})
    if(EXISTS ${_target})
      file(CREATE_LINK ${_target} ${_link} SYMBOLIC)
    endif()
  endforeach()
endforeach()

# tund_sees(<target> <module>): <target> sees exactly what <module> may include.
function(tund_sees target module)
  if(NOT DEFINED TUND_LAYER_${module})
    message(FATAL_ERROR "tund_sees: no line for '${module}' in cmake/layers.txt")
  endif()
  target_include_directories(${target} PRIVATE ${PROJECT_BINARY_DIR}/layers/${module})
  foreach(_entry IN LISTS TUND_LAYER_${module})
    if(IS_DIRECTORY ${PROJECT_BINARY_DIR}/generated/${_entry})
      target_include_directories(${target} PRIVATE ${PROJECT_BINARY_DIR}/generated/${_entry})
    endif()
  endforeach()
endfunction()

# tund_sees_everything(<target>): tests see every header (they test every module).
function(tund_sees_everything target)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  foreach(_module IN LISTS TUND_LAYER_MODULES)
    if(IS_DIRECTORY ${PROJECT_BINARY_DIR}/generated/${_module})
      target_include_directories(${target} PRIVATE ${PROJECT_BINARY_DIR}/generated/${_module})
    endif()
  endforeach()
endfunction()
