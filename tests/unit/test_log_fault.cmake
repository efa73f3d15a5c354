# Fault injection: ox_durable's system calls go through __wrap_ functions
# defined in fault_inject.h.
target_link_options(${OX_TEST_TARGET} PRIVATE
  -Wl,--wrap=write,--wrap=pwrite,--wrap=fsync,--wrap=fdatasync,--wrap=ftruncate)
