# Writes OUT: a header defining GRADC_CODEGEN_HASH, the SHA-256 of the files
# listed in SOURCES ('|'-separated). The object cache keys compiled code by
# it, so that a changed code generator never loads code the old one made.
set(all "")
string(REPLACE "|" ";" SOURCES "${SOURCES}")
foreach(f IN LISTS SOURCES)
  file(SHA256 "${f}" h)
  string(APPEND all "${h}")
endforeach()
string(SHA256 digest "${all}")
set(text "#define GRADC_CODEGEN_HASH \"${digest}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
