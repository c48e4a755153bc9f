/* enqueue.c - enqueue one job from a C program with libsyncq.
 *
 *   cc -Icommon examples/enqueue.c lib/libsyncq.a $(pkg-config --libs hiredis libcjson) -o enqueue
 *   SYNCQ_REDIS_URL=redis://127.0.0.1:6379/0 ./enqueue '{"kind":"mutation","service":"syncq","action":"noop"}'
 *
 * Prints the job id; exits 65 on a bad envelope, 69 when Redis is unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncq.h"

int
main(int argc, char **argv)
{
    const char *url = getenv("SYNCQ_REDIS_URL"), *prefix = getenv("SYNCQ_PREFIX");
    char err[256], id[160];
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: enqueue ENVELOPE_JSON [QUEUE]\n");
        return 64;
    }
    syncq_client *c = syncq_client_new(url ? url : "redis://127.0.0.1:6379/0", prefix, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "enqueue: %s\n", err);
        return 69;
    }
    int rc = 0;
    if (syncq_enqueue(c, argc == 3 ? argv[2] : NULL, argv[1], strlen(argv[1]), id, sizeof(id)) < 0) {
        fprintf(stderr, "enqueue: %s\n", syncq_client_error(c));
        rc = syncq_last_code(c);
    } else {
        printf("%s\n", id);
    }
    syncq_client_free(c);
    return rc;
}
