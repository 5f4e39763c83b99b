# The admin endpoint's HTTP/1.1 request parser. Seed corpus: corpus/fuzz_http_request/.
sluice_fuzz(fuzz_http_request ${CMAKE_CURRENT_SOURCE_DIR}/admin_fuzz.cc sluice_admin_http)
