# The client's sources are compiled into the test (they are internal to the
# shared library); they include the public header.
target_include_directories(${OX_TEST_TARGET} PRIVATE ${CMAKE_SOURCE_DIR}/include)
