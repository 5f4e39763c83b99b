# Core kernels and gRPC wire helpers on the per-call path.
if(NOT TARGET sluice_grpc_wire)  # until src/http2 adds its grpc/ subdirectory
  add_subdirectory(${PROJECT_SOURCE_DIR}/src/http2/grpc ${CMAKE_BINARY_DIR}/src/http2/grpc)
endif()
add_executable(bench_core ${CMAKE_CURRENT_LIST_DIR}/core_bench.cc)
target_link_libraries(bench_core PRIVATE sluice_core sluice_grpc_wire benchmark::benchmark_main)
