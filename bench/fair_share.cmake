# Time to fair share after a scale-out: sluice with file, etcd and dns discovery vs gRPC's own
# DNS resolver (end to end: etcd, dnsmasq, sluice-testserver backends, the sluice binary).
add_executable(bench_fair_share ${CMAKE_CURRENT_LIST_DIR}/fair_share.cc
                                ${PROJECT_SOURCE_DIR}/tests/integration/sluice_process.cc)
target_include_directories(bench_fair_share PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(bench_fair_share PRIVATE sluice_test_support)
add_dependencies(bench_fair_share sluice sluice-testserver)
