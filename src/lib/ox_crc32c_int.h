/*
 * ox_crc32c_int.h - internals shared by ox_crc32c.c (tables, crc32
 * instruction, dispatch) and ox_crc32c_fold.c (carry-less multiply paths).
 * All functions take and return the raw register (no pre/post inversion).
 */
#ifndef OX_CRC32C_INT_H
#define OX_CRC32C_INT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__SSE4_2__)
#define OX_CRC_HAVE_HW 1
#else
#define OX_CRC_HAVE_HW 0
#endif

#if OX_CRC_HAVE_HW
/* crc32 instruction, three interleaved streams; any length. Needs SSE4.2. */
uint32_t ox_crc32c_hw_update(uint32_t reg, const uint8_t *p, size_t len);
/* Folding with PCLMULQDQ (4 x 128-bit lanes); any length (below 64 bytes it
 * uses ox_crc32c_hw_update). Needs SSE4.2 and PCLMULQDQ. */
uint32_t ox_crc32c_pclmul_update(uint32_t reg, const uint8_t *p, size_t len);
/* Folding with VPCLMULQDQ on 512-bit registers; any length. Needs SSE4.2,
 * AVX512F, AVX512VL and VPCLMULQDQ. */
uint32_t ox_crc32c_vpclmul_update(uint32_t reg, const uint8_t *p, size_t len);
#endif

#endif
