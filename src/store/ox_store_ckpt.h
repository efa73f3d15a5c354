/*
 * ox_store_ckpt.h - a record's checkpoint string, fast.
 *
 * dbIp:dbPort:fileIdx:offset:timestamp:msgId (the seed's form, see
 * ox_checkpoint.h) from the store's source address and a record's source
 * position. Used per record on the JSON subscriber path, so it avoids
 * printf. Never logs; thread-safe.
 */
#ifndef OX_STORE_CKPT_H
#define OX_STORE_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "ox_checkpoint.h"
#include "ox_log.h"

/* Longest result with its NUL (every field at its widest). */
#define OX_STORE_CKPT_LEN 128

/* Writes the NUL-terminated checkpoint into buf (OX_STORE_CKPT_LEN bytes);
 * returns its length. */
size_t ox_store_ckpt_format(uint32_t ip, uint16_t port, const ox_log_srcpos *src, uint64_t msg_id,
                            char *buf);

#endif
