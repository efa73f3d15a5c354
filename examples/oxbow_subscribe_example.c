/*
 * oxbow_subscribe_example.c - follow a store and print each change record,
 * resuming from a saved checkpoint file (the pattern every consumer needs).
 *
 *     oxbow_subscribe_example HOST PORT CHECKPOINT_FILE [FILTER]
 *
 * After each record the program stores its checkpoint in CHECKPOINT_FILE
 * (written to a temporary file and renamed), so that when it is restarted it
 * continues exactly after the last record it printed. Build against an
 * installed library with: cc ex.c $(pkg-config --cflags --libs oxbow-client)
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

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT CHECKPOINT_FILE [FILTER]\n", argv[0]);
        return 2;
    }
    char saved[256] = "";
    FILE *f = fopen(argv[3], "r");
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
    o.filter = argc > 4 ? argv[4] : NULL;
    ox_client *c = NULL;
    if (ox_client_open(argv[1], (uint16_t)atoi(argv[2]), &o, &c) != 0) {
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
        save(argv[3], r.checkpoint);
    }
    if (rc == OX_CLIENT_ERROR)
        fprintf(stderr, "stream: %s\n", ox_client_error(c));
    ox_client_close(c);
    return rc == OX_CLIENT_END ? 0 : 1;
}
