# SPDX-License-Identifier: BSD-3-Clause
# Run one fuzzer for a bounded time over a fresh copy of its seed corpus.
#   cmake -DFUZZER=bin -DCORPUS=dir -DWORK=dir -DSECONDS=n -P run_fuzz.cmake
# The source corpus is only read; new inputs and crash artifacts go to WORK.
# Fails (non-zero exit) on any crash, sanitizer report, leak, timeout or OOM.
foreach(v FUZZER CORPUS WORK SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzz.cmake: -D${v}= is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${CORPUS}/*)
if(NOT seeds)
  message(FATAL_ERROR "run_fuzz.cmake: no seeds in ${CORPUS}")
endif()
file(COPY ${seeds} DESTINATION ${WORK}/corpus)

execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=25
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); reproducer in ${WORK}/artifacts/")
endif()
message(STATUS "${FUZZER}: no crash in ${SECONDS} s")
