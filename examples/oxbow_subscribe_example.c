/*
 * oxbow_subscribe_example.c - follow a store and print each change record,
 * resuming from a saved checkpoint file (the pattern every consumer needs).
 *
 *     oxbow_subscribe_example HOST PORT CHECKPOINT_FILE [FILTER]
 *     oxbow_subscribe_example --reconnect URL[,URL...] CHECKPOINT_FILE [FILTER]
 *     oxbow_subscribe_example --cm CM_URL CRAWLER CHECKPOINT_FILE [FILTER]
 *
 * After each record the program stores its checkpoint in CHECKPOINT_FILE
 * (written to a temporary file and renamed), so that when it is restarted it
 * continues exactly after the last record it printed.
 *
 * With --reconnect (a list of store URLs, http://HOST:PORT) or --cm (the
 * CM's URL and the store's crawler name: the CM says where the store runs
 * now) the library also survives a store that is killed, restarted or
 * moved while the program runs: it reconnects by itself, resumes after the
 * last record it returned, and says so through the on_reconnect callback;
 * the loop below stays the same. Build against an installed library with:
 * cc ex.c $(pkg-config --cflags --libs oxbow-client)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oxbow/client.h>

static void save(const char *path, const char *checkpoint)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return;
    fprintf(f, "%s\n", checkpoint);
    if (fclose(f) == 0)
        rename(tmp, path);
}

static void on_reconnect(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

/* Opens in the mode the arguments ask for (checked by main). */
static int open_client(char **argv, const ox_client_options *o, ox_client **c)
{
    static const char *stores[16];
    ox_client_reconnect r;
    ox_client_reconnect_init(&r);
    r.on_reconnect = on_reconnect; /* optional: the library itself never prints */
    if (strcmp(argv[1], "--reconnect") == 0) {
        /* Splits the comma-separated list in place. */
        for (char *s = strtok(argv[2], ","); s != NULL && r.n_stores < 16; s = strtok(NULL, ","))
            stores[r.n_stores++] = s;
        r.stores = stores;
        return ox_client_open_reconnect(&r, o, c);
    }
    if (strcmp(argv[1], "--cm") == 0) {
        r.cm_url = argv[2];
        r.crawler = argv[3];
        return ox_client_open_reconnect(&r, o, c);
    }
    return ox_client_open(argv[1], (uint16_t)atoi(argv[2]), o, c);
}

int main(int argc, char **argv)
{
    int first = argc > 1 && strcmp(argv[1], "--cm") == 0 ? 4 : 3; /* CHECKPOINT_FILE */
    if (argc <= first) {
        fprintf(stderr,
                "usage: %s HOST PORT CHECKPOINT_FILE [FILTER]\n"
                "       %s --reconnect URL[,URL...] CHECKPOINT_FILE [FILTER]\n"
                "       %s --cm CM_URL CRAWLER CHECKPOINT_FILE [FILTER]\n",
                argv[0], argv[0], argv[0]);
        return 2;
    }
    char saved[256] = "";
    FILE *f = fopen(argv[first], "r");
    if (f != NULL) {
        if (fgets(saved, sizeof saved, f) != NULL)
            saved[strcspn(saved, "\n")] = '\0';
        fclose(f);
    }
    ox_client_options o;
    ox_client_options_init(&o);
    if (saved[0] != '\0')
        o.checkpoint = saved;
    else
        o.from_earliest = 1;
    o.filter = argc > first + 1 ? argv[first + 1] : NULL;
    ox_client *c = NULL;
    if (open_client(argv, &o, &c) != 0) {
        fprintf(stderr, "subscribe: %s\n", ox_client_error(c));
        ox_client_close(c);
        return 1;
    }
    ox_client_record r;
    int rc;
    while ((rc = ox_client_next(c, &r, 1000)) != OX_CLIENT_ERROR && rc != OX_CLIENT_END) {
        if (rc != OX_CLIENT_RECORD)
            continue; /* a second without news */
        printf("%s\n", r.json);
        fflush(stdout);
        save(argv[first], r.checkpoint);
    }
    if (rc == OX_CLIENT_ERROR)
        fprintf(stderr, "stream: %s\n", ox_client_error(c));
    ox_client_close(c);
    return rc == OX_CLIENT_END ? 0 : 1;
}
