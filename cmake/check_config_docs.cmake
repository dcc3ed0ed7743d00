# Fails when a page generated from the config table differs from the committed one: docs/config.md
# (`kith config docs`, the default) or the manual page docs/kith.1 (-DWHAT=man, `kith config man`).
# Run as: cmake -DKITH=<kith binary> -DDOC=<committed page> [-DWHAT=docs|man] -P this file.
if(NOT WHAT)
    set(WHAT docs)
endif()
execute_process(COMMAND ${KITH} config ${WHAT} OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "`kith config ${WHAT}` exited ${rc}")
endif()
file(READ ${DOC} committed)
get_filename_component(name ${DOC} NAME)
if(NOT generated STREQUAL committed)
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${name}.generated "${generated}")
    message(FATAL_ERROR "${DOC} is out of date with the config table. Regenerate it:\n"
        "  build/kith config ${WHAT} > ${DOC}\n"
        "(the generated text is in ${CMAKE_CURRENT_BINARY_DIR}/${name}.generated)")
endif()
