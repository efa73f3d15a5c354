/*
 * ox_crc32c.h - CRC32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Every record and index entry of the change log carries a CRC32C. Four
 * implementations give the same results ("123456789" -> 0xE3069283): folding
 * with VPCLMULQDQ on 512-bit registers (long buffers) or PCLMULQDQ, the
 * SSE4.2 crc32 instruction in three interleaved streams (short buffers and
 * tails), and slicing-by-8 tables. ox_crc32c picks the fastest one the CPU
 * has, by length, at run time.
 */
#ifndef OX_CRC32C_H
#define OX_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends `crc` (the result of a previous call, or 0 to start) over `len`
 * bytes at `p` and returns the new CRC32C. ox_crc32c(ox_crc32c(0, a), b) is the
 * CRC of a followed by b. Never logs. Thread-safe (the CPU check and tables
 * are set up once, on first use).
 */
uint32_t ox_crc32c(uint32_t crc, const void *p, size_t len);

/* CRC32C (from 0) of three independent buffers at once: the three
 * computations overlap in the CPU, which is what makes checking many short
 * records fast. out[i] = ox_crc32c(0, p[i], len[i]). Thread-safe. */
void ox_crc32c_x3(const void *const p[3], const size_t len[3], uint32_t out[3]);

/* Implementations the CPU can run (bits of ox_crc32c_paths()). */
#define OX_CRC32C_SSE42   1u /* crc32 instruction */
#define OX_CRC32C_PCLMUL  2u /* PCLMULQDQ folding, 128-bit lanes */
#define OX_CRC32C_VPCLMUL 4u /* VPCLMULQDQ folding, 512-bit registers */

/* Bit set of the OX_CRC32C_* paths usable on this CPU (0: tables only). */
unsigned ox_crc32c_paths(void);

/* Name of the path ox_crc32c uses for long buffers ("vpclmulqdq", "sse4.2"
 * or "table"; the PCLMULQDQ path measured slower than the crc32 instruction,
 * so it only runs through ox_crc32c_pclmul); a static string. */
const char *ox_crc32c_impl(void);

/* One path forced, for tests and benchmarks; same contract as ox_crc32c.
 * A path the CPU lacks (see ox_crc32c_paths) is replaced by the best one
 * below it (vpclmul -> pclmul -> sse42 -> tables), never faulting. */
uint32_t ox_crc32c_sw(uint32_t crc, const void *p, size_t len);
uint32_t ox_crc32c_sse42(uint32_t crc, const void *p, size_t len);
uint32_t ox_crc32c_pclmul(uint32_t crc, const void *p, size_t len);
uint32_t ox_crc32c_vpclmul(uint32_t crc, const void *p, size_t len);

/* 1 if ox_crc32c uses a CPU instruction (any of the paths) on this machine. */
int ox_crc32c_hw(void);

#endif
