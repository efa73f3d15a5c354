/*
 * ox_sha256.c - SHA-256 through Nettle (the hashing library GnuTLS, and so
 * libmicrohttpd, already brings): oxbow does not carry its own digest code.
 */
#include "ox_sha256.h"

#include <nettle/sha2.h>

void ox_sha256(const void *p, size_t len, uint8_t out[32])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)p);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

void ox_sha256_hex(const void *p, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[32];
    ox_sha256(p, len, d);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}
