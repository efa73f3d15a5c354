/* cli_common.c - helpers shared by the daemon subcommands (see ox_cli.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ox_buf.h"
#include "ox_cli.h"

int ox_cli_load_props(const char *file, const char *key, const char *value, ox_props **out,
                      ox_errbuf *eb)
{
    ox_buf b = OX_BUF_INIT;
    if (file) {
        FILE *f = fopen(file, "re");
        if (f == NULL)
            return ox_errf(eb, OX_ENOENT, "cannot open %s", file);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            ox_buf_put(&b, chunk, n);
        fclose(f);
        if (b.len > 0 && b.data[b.len - 1] != '\n')
            ox_buf_putc(&b, '\n');
    }
    /* The option becomes one more line, so that a key given both in the file
     * and on the command line is reported as a duplicate. */
    if (key != NULL && value != NULL)
        ox_buf_printf(&b, "%s=%s\n", key, value);
    int rc = ox_props_parse(b.len ? (const char *)b.data : "", b.len, file ? file : "(options)",
                            out, eb);
    ox_buf_free(&b);
    return rc;
}

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

void ox_cli_trap_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

int ox_cli_stop_requested(void)
{
    return (int)stop_signal;
}

int ox_cli_wait_stop_signal(void)
{
    while (!stop_signal)
        pause();
    return (int)stop_signal;
}
