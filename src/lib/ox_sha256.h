/*
 * ox_sha256.h - SHA-256 (Nettle underneath), for storing credentials as hashes.
 *
 * The CM keeps only the SHA-256 of each supervisor credential in its metaDB;
 * the credentials are 192-bit random tokens, so a plain hash (no salt, no
 * stretching) is enough to make a stolen metaDB row useless as a token.
 */
#ifndef OX_SHA256_H
#define OX_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 32-byte digest of `len` bytes at `p` to `out`. Never logs.
 * Thread-safe. */
void ox_sha256(const void *p, size_t len, uint8_t out[32]);

/* Writes the digest as 64 lowercase hex digits and a NUL to `hex`. */
void ox_sha256_hex(const void *p, size_t len, char hex[65]);

#endif
