/*
 * ox_assert.h - always-on invariant checks.
 *
 * ox_assert guards invariants of our own code, never outside input (input gets
 * an error value). It stays on in release builds: a broken invariant in a
 * change log is worse than a crash.
 */
#ifndef OX_ASSERT_H
#define OX_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define ox_assert(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "oxbow: assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
