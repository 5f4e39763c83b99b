# A membership update of a large cluster: snapshot build plus a worker's cluster states.
add_executable(bench_snapshot ${CMAKE_CURRENT_LIST_DIR}/snapshot_bench.cc)
target_link_libraries(bench_snapshot PRIVATE sluice_proxy benchmark::benchmark_main)
