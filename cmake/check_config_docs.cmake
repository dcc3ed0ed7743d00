# Fails when docs/config.md differs from what `kith config docs` prints from the config table
# (src/core/config.c). Run as: cmake -DKITH=<kith binary> -DDOC=<docs/config.md> -P this file.
execute_process(COMMAND ${KITH} config docs OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "`kith config docs` exited ${rc}")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/config.md.generated "${generated}")
    message(FATAL_ERROR "${DOC} is out of date with the config table. Regenerate it:\n"
        "  build/kith config docs > docs/config.md\n"
        "(the generated text is in ${CMAKE_CURRENT_BINARY_DIR}/config.md.generated)")
endif()
