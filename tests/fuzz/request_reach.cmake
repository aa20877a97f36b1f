# SPDX-License-Identifier: BSD-3-Clause
# Replay the committed request corpus once and check it still gets where it
# was recorded to go: allocations made and every TURN method answered with
# success, data relayed (fuzz_request's TP_FUZZ_REPORT figures).
#   cmake -DFUZZER=bin -DCORPUS=dir -P request_reach.cmake
file(GLOB seeds ${CORPUS}/*)
if(NOT seeds)
  message(FATAL_ERROR "request_reach.cmake: no seeds in ${CORPUS}")
endif()
set(ENV{TP_FUZZ_REPORT} 1)
execute_process(COMMAND ${FUZZER} -runs=1 ${seeds}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}) on the corpus:\n${err}")
endif()
foreach(want "[1-9][0-9]* allocations created" "[1-9][0-9]* relayed"
             "answers allocate 0: [1-9]" "answers refresh 0: [1-9]"
             "answers create_permission 0: [1-9]" "answers channel_bind 0: [1-9]"
             "answers connect 0: [1-9]" "answers connection_bind 0: [1-9]"
             "answers allocate 401: [1-9]" "answers refresh 438: [1-9]")
  if(NOT out MATCHES "${want}")
    message(FATAL_ERROR "the request corpus no longer reaches: ${want}")
  endif()
endforeach()
