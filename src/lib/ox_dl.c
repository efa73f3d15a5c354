/* ox_dl.c - run-time loading of optional libraries (see ox_dl.h). */
#include "ox_dl.h"

#include <dlfcn.h>

int ox_dl_load(const char *soname, const ox_dl_sym *syms, size_t n, ox_errbuf *eb)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return ox_errf(eb, OX_EUNSUPP, "cannot load %s: %s", soname, dlerror());
    for (size_t i = 0; i < n; i++) {
        void *p = dlsym(h, syms[i].name);
        if (p == NULL)
            return ox_errf(eb, OX_EUNSUPP, "%s has no symbol %s", soname, syms[i].name);
        *syms[i].slot = p;
    }
    return 0;
}
