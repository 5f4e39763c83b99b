# sluice-testserver against a real grpc++ client (owned by the testserver task).
include(GoogleTest)
add_executable(test_testserver ${CMAKE_CURRENT_LIST_DIR}/testserver_test.cc)
target_link_libraries(test_testserver PRIVATE sluice_test_support GTest::gtest_main)
add_dependencies(test_testserver sluice-testserver)
sluice_gtest(test_testserver LABELS integration
             SERIAL "SixtyFourMiB" "ThousandConcurrentDelayed" "SlowReader" "DelayHolds")
