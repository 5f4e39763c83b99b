# ns per pick and per picker build of every balancing policy.
add_executable(bench_policies ${CMAKE_CURRENT_LIST_DIR}/policies_bench.cc)
target_link_libraries(bench_policies PRIVATE sluice_core benchmark::benchmark_main)
