/* cli_healthcheck.c - `syncq healthcheck`: GET /healthz from the worker
 * master on this machine, for container health checks (the runtime image has
 * no curl binary; the CLI already links libcurl through common/http.c). Exit
 * 0 healthy, 1 not: the convention of Docker HEALTHCHECK and Kubernetes exec
 * probes. */
#include "fmacros.h"
#include "cli.h"
#include "http.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: syncq healthcheck [--addr HOST:PORT] [--timeout-ms N] [--quiet]\n"
    "\n"
    "Asks the worker master on this machine for GET /healthz and exits 0 when it answers 200\n"
    "(its children run and Redis answers), 1 otherwise: for Docker HEALTHCHECK, Kubernetes\n"
    "exec probes and systemd. The address defaults to SYNCQ_METRICS_ADDR (a wildcard host\n"
    "such as 0.0.0.0 or [::] is asked on the loopback address).\n"
    "\n"
    "      --addr HOST:PORT   where the master serves /healthz\n"
    "      --timeout-ms N     give up after N ms (default 2000)\n"
    "  -q, --quiet            print nothing\n"
    "\n"
    "Exit codes: 0 healthy, 1 unhealthy or no answer, 64 usage.\n";

/* healthz_url turns a listen address into the URL to ask. 0 or -1. */
static int
healthz_url(const char *addr, char *out, size_t len)
{
    char host[256];
    int port;
    if (strcmp(addr, "off") == 0 || config_parse_listen(addr, host, sizeof(host), &port) < 0 || port <= 0) return -1;
    const char *h = host;
    int v6 = strchr(host, ':') != NULL;
    if (!*host || strcmp(host, "0.0.0.0") == 0) h = "127.0.0.1";
    else if (strcmp(host, "::") == 0) h = "::1";
    int n = snprintf(out, len, v6 ? "http://[%s]:%d/healthz" : "http://%s:%d/healthz", h, port);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
cli_healthcheck(config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"addr", required_argument, NULL, 'a'},
                                         {"timeout-ms", required_argument, NULL, 't'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *addr = cfg->metrics_addr;
    long timeout = 2000;
    int quiet = 0, o;
    char url[320], *end;
    optind = 1;
    while ((o = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        } else if (o == 'a') {
            addr = optarg;
        } else if (o == 'q') {
            quiet = 1;
        } else if (o == 't') {
            timeout = strtol(optarg, &end, 10);
            if (*end || timeout < 1 || timeout > 600000) {
                fprintf(stderr, "syncq healthcheck: bad --timeout-ms \"%s\" (1..600000)\n", optarg);
                return SYNCQ_EX_USAGE;
            }
        } else {
            fputs(usage, stderr);
            return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncq healthcheck: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return SYNCQ_EX_USAGE;
    }
    if (healthz_url(addr, url, sizeof(url)) < 0) {
        fprintf(stderr, "syncq healthcheck: no address to ask (SYNCQ_METRICS_ADDR or --addr is \"%s\")\n", addr);
        return SYNCQ_EX_USAGE;
    }
    http_client c;
    http_response rs;
    memset(&rs, 0, sizeof(rs));
    http_request rq = {.method = "GET", .url = url, .connect_timeout_ms = (int)timeout, .timeout_ms = (int)timeout};
    int rc = SYNCQ_EX_BREACH;
    if (http_global_init() < 0 || http_init(&c) < 0) {
        fprintf(stderr, "syncq healthcheck: libcurl could not start\n");
        return SYNCQ_EX_SOFTWARE;
    }
    if (http_do(&c, &rq, &rs) < 0) {
        if (!quiet) printf("unhealthy: %s: %s\n", url, c.errstr);
    } else {
        rc = rs.status == 200 ? SYNCQ_EX_OK : SYNCQ_EX_BREACH;
        if (!quiet) printf("%s: HTTP %d %.*s\n", rc == 0 ? "healthy" : "unhealthy", rs.status,
                           (int)strcspn(rs.body.len ? rs.body.buf : "", "\n"), rs.body.len ? rs.body.buf : "");
    }
    http_response_free(&rs);
    http_close(&c);
    return rc;
}
