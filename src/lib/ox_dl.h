/*
 * ox_dl.h - load an optional shared library at run time.
 *
 * Why: `oxbow` is one executable, but only the CM's PostgreSQL metaDB needs
 * libpq and only the supervisor needs libcurl. Linked normally, every run of
 * every subcommand (`oxbow decode` included) would map and relocate those
 * two and their ~20 dependencies (GSSAPI, LDAP, SSH, ...): measured here as
 * about 2.4 ms of a 6 ms start, 5% of decoding a 60 MB binlog. So the
 * modules that use them load them on first use through this helper.
 */
#ifndef OX_DL_H
#define OX_DL_H

#include <stddef.h>

#include "ox_err.h"

typedef struct ox_dl_sym {
    const char *name;
    void **slot; /* where the symbol's address goes */
} ox_dl_sym;

/*
 * dlopen()s `soname` and resolves every symbol of `syms` into its slot.
 * Returns 0, or OX_EUNSUPP with the library or the missing symbol named in
 * eb (the library stays loaded either way; no slot is left half-filled on
 * success). Never logs. Not thread-safe: call it under a pthread_once.
 */
int ox_dl_load(const char *soname, const ox_dl_sym *syms, size_t n, ox_errbuf *eb);

#endif
