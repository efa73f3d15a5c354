/*
 * ox_crc32c.h - CRC32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Every record and index entry of the change log carries a CRC32C. The
 * implementation uses the SSE4.2 crc32 instruction (three interleaved streams)
 * when the CPU has it and a table-driven software loop otherwise; both give the
 * same results ("123456789" -> 0xE3069283).
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

/* CRC32C (from 0) of three independent buffers at once: with the SSE4.2
 * instruction the three dependency chains overlap, which is what makes
 * checking many short records fast. out[i] = ox_crc32c(0, p[i], len[i]). */
void ox_crc32c_x3(const void *const p[3], const size_t len[3], uint32_t out[3]);

/* The same with the software tables only; for tests and for comparison. */
uint32_t ox_crc32c_sw(uint32_t crc, const void *p, size_t len);

/* 1 if ox_crc32c uses the SSE4.2 instruction on this machine. */
int ox_crc32c_hw(void);

#endif
