# grpc.health.v1 responses as the health probe reads them.
sluice_fuzz(fuzz_health_response ${CMAKE_CURRENT_LIST_DIR}/health_fuzz_response.cc sluice_health_wire)
