# Subset choice: one call per client at startup and per membership change or rotation.
add_executable(bench_subset ${CMAKE_CURRENT_LIST_DIR}/subset_bench.cc)
target_link_libraries(bench_subset PRIVATE sluice_core benchmark::benchmark_main)
