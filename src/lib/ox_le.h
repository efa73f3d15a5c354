/*
 * ox_le.h - unaligned fixed-width loads and little-endian stores.
 *
 * Both formats oxbow reads at speed, MySQL's binlog and our own change log,
 * are little-endian with unaligned fields. ox_load16/32/64 are native-order
 * unaligned loads (memcpy compiles to one move); ox_le16/32/64 read a
 * little-endian field on any host; ox_put_le16/32/64 write one.
 */
#ifndef OX_LE_H
#define OX_LE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t ox_load16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t ox_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t ox_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OX_LE16(x) (x)
#define OX_LE32(x) (x)
#define OX_LE64(x) (x)
#define OX_BE16(x) __builtin_bswap16(x)
#define OX_BE32(x) __builtin_bswap32(x)
#define OX_BE64(x) __builtin_bswap64(x)
#else
#define OX_LE16(x) __builtin_bswap16(x)
#define OX_LE32(x) __builtin_bswap32(x)
#define OX_LE64(x) __builtin_bswap64(x)
#define OX_BE16(x) (x)
#define OX_BE32(x) (x)
#define OX_BE64(x) (x)
#endif

static inline uint16_t ox_le16(const uint8_t *p)
{
    return OX_LE16(ox_load16(p));
}

static inline uint32_t ox_le32(const uint8_t *p)
{
    return OX_LE32(ox_load32(p));
}

static inline uint64_t ox_le64(const uint8_t *p)
{
    return OX_LE64(ox_load64(p));
}

static inline void ox_put_le16(uint8_t *p, uint16_t v)
{
    v = OX_LE16(v);
    memcpy(p, &v, 2);
}

static inline void ox_put_le32(uint8_t *p, uint32_t v)
{
    v = OX_LE32(v);
    memcpy(p, &v, 4);
}

static inline void ox_put_le64(uint8_t *p, uint64_t v)
{
    v = OX_LE64(v);
    memcpy(p, &v, 8);
}

#endif
