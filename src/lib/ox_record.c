/* ox_record.c - payload, JSON envelope and binary frames; see ox_record.h. */
#include "ox_record.h"

#include <stddef.h>
#include <string.h>

#include "ox_json_out.h"
#include "ox_le.h"

_Static_assert(sizeof(ox_record_frame) == OX_RECORD_FRAME_HDR, "frame header is 40 bytes");
_Static_assert(offsetof(ox_record_frame, kind) == 4, "kind at 4");
_Static_assert(offsetof(ox_record_frame, flags) == 5, "flags at 5");
_Static_assert(offsetof(ox_record_frame, reserved) == 6, "reserved at 6");
_Static_assert(offsetof(ox_record_frame, msg_id) == 8, "msgId at 8");
_Static_assert(offsetof(ox_record_frame, file_idx) == 16, "fileIdx at 16");
_Static_assert(offsetof(ox_record_frame, offset) == 24, "offset at 24");
_Static_assert(offsetof(ox_record_frame, timestamp) == 32, "timestamp at 32");
_Static_assert(sizeof OX_RECORD_MAGIC == OX_RECORD_MAGIC_LEN + 1, "magic is 8 bytes");
_Static_assert(OX_RECORD_FLAG_COMMIT == OX_LOG_COMMIT, "commit flag is the log's");

static void put_name(ox_buf *out, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255)
        n = 255;
    ox_buf_putc(out, (uint8_t)n);
    ox_buf_put(out, s, n);
}

void ox_record_put_header(ox_buf *out, const char *db, const char *table, int op)
{
    put_name(out, db);
    put_name(out, table);
    ox_buf_putc(out, (uint8_t)op);
}

void ox_record_put_change_header(ox_buf *out, const ox_change *c, int op)
{
    /* Names beyond the header's: later targets, and every new name. */
    uint32_t extra = 0;
    if (c->op == OX_OP_DDL)
        for (uint32_t i = 0; i < c->ntargets; i++)
            extra += (i > 0) + (c->targets[i].new_table != NULL);
    if (extra == 0) {
        ox_record_put_header(out, c->db, c->table, op);
        return;
    }
    if (extra > 0xffff)
        extra = 0xffff;
    ox_record_put_header(out, c->db, c->table, op | OX_PAYLOAD_NAMES);
    ox_buf_putc(out, (uint8_t)(extra & 0xff));
    ox_buf_putc(out, (uint8_t)(extra >> 8));
    uint32_t k = 0;
    for (uint32_t i = 0; i < c->ntargets && k < extra; i++) {
        const ox_change_target *t = &c->targets[i];
        if (i > 0) {
            put_name(out, t->db);
            put_name(out, t->table);
            k++;
        }
        if (t->new_table && k < extra) {
            put_name(out, t->new_db);
            put_name(out, t->new_table);
            k++;
        }
    }
}

int ox_record_decode(const uint8_t *p, uint32_t len, ox_payload_view *v)
{
    uint32_t i = 0;
    if (len < 3)
        return OX_ECORRUPT;
    v->db_len = p[i++];
    if ((uint64_t)i + v->db_len + 2 > len)
        return OX_ECORRUPT;
    v->db = (const char *)p + i;
    i += v->db_len;
    v->table_len = p[i++];
    if ((uint64_t)i + v->table_len + 1 > len)
        return OX_ECORRUPT;
    v->table = (const char *)p + i;
    i += v->table_len;
    uint8_t op = p[i++];
    v->nnames = 0;
    v->names = NULL;
    /* OX_PAYLOAD_POSITION (0x86) does not have the names bit. */
    if (op & OX_PAYLOAD_NAMES) {
        op &= (uint8_t)~OX_PAYLOAD_NAMES;
        if ((uint64_t)i + 2 > len)
            return OX_ECORRUPT;
        uint16_t n = ox_le16(p + i);
        i += 2;
        v->names = p + i;
        for (uint32_t k = 0; k < 2u * n; k++) {
            if ((uint64_t)i + 1 > len || (uint64_t)i + 1 + p[i] > len)
                return OX_ECORRUPT;
            i += 1u + p[i];
        }
        v->nnames = n;
    }
    v->op = op;
    v->json = (const char *)p + i;
    v->json_len = len - i;
    return 0;
}

bool ox_record_any_name(const ox_payload_view *v,
                        bool (*fn)(void *arg, const char *db, size_t dl, const char *t, size_t tl),
                        void *arg)
{
    if (fn(arg, v->db, v->db_len, v->table, v->table_len))
        return true;
    const uint8_t *q = v->names;
    for (uint16_t k = 0; k < v->nnames; k++) {
        size_t dl = q[0];
        const char *db = (const char *)q + 1;
        size_t tl = q[1 + dl];
        const char *t = (const char *)q + 2 + dl;
        if (fn(arg, db, dl, t, tl))
            return true;
        q += 2 + dl + tl;
    }
    return false;
}

size_t ox_record_checkpoint(uint32_t ip, uint16_t port, const ox_log_srcpos *src, uint64_t msg_id,
                            char buf[OX_CHECKPOINT_STRLEN])
{
    ox_checkpoint cp = {.db_ip = ip,
                        .db_port = port,
                        .file_idx = src->file_idx,
                        .offset = src->offset,
                        .timestamp = src->timestamp,
                        .msg_id = msg_id,
                        .present = OX_CP_DBIP | OX_CP_DBPORT | OX_CP_FILEIDX | OX_CP_OFFSET |
                                   OX_CP_TIMESTAMP | OX_CP_MSGID};
    return ox_checkpoint_format(&cp, buf, OX_CHECKPOINT_STRLEN);
}

void ox_record_json_head(ox_buf *head, uint64_t msg_id, const char *cp, size_t cp_len,
                         const char *json, size_t json_len, const char **rest, size_t *rest_len)
{
    static const char k1[] = "{\"msgId\":", k2[] = ",\"checkpoint\":\"";
    /* Per served record: one capacity check, then plain stores. */
    ox_json_reserve(head, sizeof k1 + 20 + sizeof k2 + cp_len + 2);
    char *o = (char *)head->data + head->len;
    memcpy(o, k1, sizeof k1 - 1);
    o += sizeof k1 - 1;
    o += ox_fmt_u64(o, msg_id);
    memcpy(o, k2, sizeof k2 - 1);
    o += sizeof k2 - 1;
    memcpy(o, cp, cp_len);
    o += cp_len;
    *rest = NULL;
    *rest_len = 0;
    if (json_len < 2 || json[0] != '{') {
        *o++ = '"';
        *o++ = '}';
    } else {
        /* Splice: our two members, then the stored object's members. */
        *o++ = '"';
        if (json_len > 2 && json[1] != '}')
            *o++ = ',';
        *rest = json + 1;
        *rest_len = json_len - 1;
    }
    head->len = (size_t)(o - (char *)head->data);
}

void ox_record_json_error(ox_buf *out, const char *text)
{
    OX_JSON_LIT(out, "{\"isSuccess\":false,\"errMsg\":");
    ox_json_str(out, text, strlen(text));
    OX_JSON_LIT(out, "}");
}

/* Parses an unsigned decimal at s[*i..end), advancing *i; -1 if none. */
static int dec(const uint8_t *s, size_t end, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *i;
    while (*i < end && s[*i] >= '0' && s[*i] <= '9') {
        if (*i - start >= 20)
            return -1;
        v = v * 10 + (uint64_t)(s[*i] - '0');
        (*i)++;
    }
    if (*i == start)
        return -1;
    *out = v;
    return 0;
}

/* fileIdx, offset and timestamp are fields 3-5 of the checkpoint. */
static int checkpoint_position(const uint8_t *s, size_t cp, size_t end, ox_record_env *env)
{
    size_t k = cp;
    int colons = 0;
    uint64_t ts = 0;
    while (k < end && colons < 2)
        colons += s[k++] == ':';
    if (colons != 2 || dec(s, end, &k, &env->file_idx) != 0 || k >= end || s[k++] != ':' ||
        dec(s, end, &k, &env->offset) != 0 || k >= end || s[k++] != ':' ||
        dec(s, end, &k, &ts) != 0)
        return -1;
    env->timestamp = (int64_t)ts;
    return 0;
}

int ox_record_json_parse(const uint8_t *s, size_t len, ox_record_env *env, ox_errbuf *eb)
{
    static const char p1[] = "{\"msgId\":", p2[] = ",\"checkpoint\":\"";
    static const char e1[] = "{\"isSuccess\":false";
    memset(env, 0, sizeof *env);
    if (len >= sizeof e1 - 1 && memcmp(s, e1, sizeof e1 - 1) == 0) {
        env->error = 1;
        return 0;
    }
    size_t i = sizeof p1 - 1;
    if (len < i || memcmp(s, p1, i) != 0 || dec(s, len, &i, &env->msg_id) != 0 ||
        len - i < sizeof p2 - 1 || memcmp(s + i, p2, sizeof p2 - 1) != 0)
        return ox_errf(eb, OX_EINVAL,
                       "json stream: a line does not start with msgId and checkpoint");
    i += sizeof p2 - 1;
    size_t cp = i;
    while (i < len && s[i] != '"')
        i++;
    if (i == len || i - cp >= OX_CHECKPOINT_STRLEN)
        return ox_errf(eb, OX_EINVAL, "json stream: unterminated checkpoint");
    env->checkpoint = (const char *)s + cp;
    env->checkpoint_len = i - cp;
    if (checkpoint_position(s, cp, i, env) != 0)
        return ox_errf(eb, OX_EINVAL, "json stream: malformed checkpoint");
    /* Commit records carry "op":"commit" (docs/records.md). */
    env->commit = memmem(s, len, "\"op\":\"commit\"", 13) != NULL;
    return 0;
}

void ox_record_frame_put(uint8_t h[OX_RECORD_FRAME_HDR], int kind, const ox_log_record *rec,
                         size_t payload_len)
{
    memset(h, 0, OX_RECORD_FRAME_HDR);
    ox_put_le32(h, (uint32_t)(OX_RECORD_FRAME_HDR - 4 + payload_len));
    h[offsetof(ox_record_frame, kind)] = (uint8_t)kind;
    if (rec == NULL)
        return;
    h[offsetof(ox_record_frame, flags)] = (uint8_t)(rec->flags & OX_RECORD_FLAG_COMMIT);
    ox_put_le64(h + offsetof(ox_record_frame, msg_id), rec->msg_id);
    ox_put_le64(h + offsetof(ox_record_frame, file_idx), rec->src.file_idx);
    ox_put_le64(h + offsetof(ox_record_frame, offset), rec->src.offset);
    ox_put_le64(h + offsetof(ox_record_frame, timestamp), (uint64_t)rec->src.timestamp);
}

int ox_record_frame_get(const uint8_t h[OX_RECORD_FRAME_HDR], ox_record_frame *f)
{
    f->len = ox_le32(h);
    f->kind = h[offsetof(ox_record_frame, kind)];
    f->flags = h[offsetof(ox_record_frame, flags)];
    f->reserved = ox_le16(h + offsetof(ox_record_frame, reserved));
    f->msg_id = ox_le64(h + offsetof(ox_record_frame, msg_id));
    f->file_idx = ox_le64(h + offsetof(ox_record_frame, file_idx));
    f->offset = ox_le64(h + offsetof(ox_record_frame, offset));
    f->timestamp = (int64_t)ox_le64(h + offsetof(ox_record_frame, timestamp));
    if (f->len < OX_RECORD_FRAME_HDR - 4 || f->kind > OX_RECORD_KIND_ERROR)
        return OX_ECORRUPT;
    return 0;
}
