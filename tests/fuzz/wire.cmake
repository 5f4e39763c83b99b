# gRPC wire helpers: grpc-timeout, :path, grpc-message, framing, grpc-retry-pushback-ms.
if(NOT TARGET sluice_grpc_wire)  # until src/http2 adds its grpc/ subdirectory
  add_subdirectory(${PROJECT_SOURCE_DIR}/src/http2/grpc ${CMAKE_BINARY_DIR}/src/http2/grpc)
endif()
sluice_fuzz(fuzz_grpc_timeout ${CMAKE_CURRENT_LIST_DIR}/wire_fuzz_timeout.cc sluice_grpc_wire)
sluice_fuzz(fuzz_grpc_path ${CMAKE_CURRENT_LIST_DIR}/wire_fuzz_path.cc sluice_grpc_wire)
sluice_fuzz(fuzz_grpc_message ${CMAKE_CURRENT_LIST_DIR}/wire_fuzz_message.cc sluice_grpc_wire)
sluice_fuzz(fuzz_grpc_framing ${CMAKE_CURRENT_LIST_DIR}/wire_fuzz_framing.cc sluice_grpc_wire)
sluice_fuzz(fuzz_grpc_pushback ${CMAKE_CURRENT_LIST_DIR}/wire_fuzz_pushback.cc sluice_grpc_wire)
