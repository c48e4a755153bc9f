/* slot.c - Redis Cluster key slots: the CRC16 of the cluster specification
 * and the key positions of the commands syncq sends. */
#include "fmacros.h"
#include "slot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

unsigned
slot_crc16(const char *buf, size_t len)
{
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)buf[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
}

int
slot_of_key(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t from = (size_t)(open - key) + 1;
        const char *close = memchr(open + 1, '}', len - from);
        if (close && close > open + 1) return (int)(slot_crc16(open + 1, (size_t)(close - open - 1)) & 16383);
    }
    return (int)(slot_crc16(key, len) & 16383);
}

/* Where a command's keys sit: argv[first] .. argv[argc + last] (last <= 0
 * counts from the end, like Redis's COMMAND INFO), every step-th one. */
typedef struct keyspec {
    const char *name;
    int first, last, step;
} keyspec;

static const keyspec multi[] = {
    {"DEL", 1, -1, 1},   {"UNLINK", 1, -1, 1}, {"EXISTS", 1, -1, 1}, {"MGET", 1, -1, 1},
    {"TOUCH", 1, -1, 1}, {"MSET", 1, -1, 2},   {"BLPOP", 1, -2, 1},  {"BRPOP", 1, -2, 1},
    {"RENAME", 1, 2, 1}, {"LMOVE", 1, 2, 1},   {"BLMOVE", 1, 2, 1},  {"RPOPLPUSH", 1, 2, 1},
    {"BRPOPLPUSH", 1, 2, 1}, {"SMOVE", 1, 2, 1}, {"SUNIONSTORE", 1, -1, 1}, {"SINTER", 1, -1, 1},
};

/* Keyless commands any node answers; FUNCTION and friends change every master. */
static const char *const keyless[] = {
    "PING", "TIME", "INFO", "CONFIG", "CLUSTER", "ECHO", "CLIENT", "AUTH", "SELECT", "HELLO", "COMMAND",
    "WAIT", "READONLY", "ASKING", "DBSIZE", "ROLE", "SCAN", "KEYS", "LASTSAVE", "SLOWLOG", "MEMORY",
};
static const char *const everywhere[] = {"FUNCTION", "SCRIPT", "FLUSHALL", "FLUSHDB"};

static int
is(const char *name, const char *arg, size_t len)
{
    return strlen(name) == len && !strncasecmp(name, arg, len);
}

static int
in_list(const char *const *list, size_t n, const char *arg, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (is(list[i], arg, len)) return 1;
    return 0;
}

/* merge folds key argv[i] into the slot found so far (SLOT_NONE at first). */
static int
merge(int sofar, const char *key, size_t len)
{
    int s = slot_of_key(key, len);
    if (sofar == SLOT_NONE || sofar == s) return s;
    return SLOT_CROSS;
}

static int
range(int argc, const char *const *argv, const size_t *lens, int first, int last, int step)
{
    int s = SLOT_NONE;
    for (int i = first; i < argc && i <= last && s != SLOT_CROSS; i += step) s = merge(s, argv[i], lens[i]);
    return s;
}

/* numkeys: FCALL/EVAL name numkeys key... */
static int
numkeys_slot(int argc, const char *const *argv, const size_t *lens)
{
    char n[16];
    if (argc < 3 || lens[2] >= sizeof(n)) return SLOT_NONE;
    memcpy(n, argv[2], lens[2]);
    n[lens[2]] = '\0';
    int k = atoi(n);
    if (k <= 0) return SLOT_NONE;
    return range(argc, argv, lens, 3, 2 + k, 1);
}

/* XREAD [COUNT n] [BLOCK ms] STREAMS key... id...: the keys are the first
 * half of what follows STREAMS. */
static int
streams_slot(int argc, const char *const *argv, const size_t *lens)
{
    for (int i = 1; i < argc; i++)
        if (is("STREAMS", argv[i], lens[i])) {
            int n = (argc - i - 1) / 2;
            return range(argc, argv, lens, i + 1, i + n, 1);
        }
    return SLOT_NONE;
}

int
slot_of_command(int argc, const char *const *argv, const size_t *lens)
{
    if (argc < 1) return SLOT_NONE;
    const char *c = argv[0];
    size_t cl = lens[0];
    if (in_list(everywhere, sizeof(everywhere) / sizeof(*everywhere), c, cl)) {
        /* FUNCTION LIST/DUMP and SCRIPT EXISTS read: one node answers */
        if (argc > 1 && (is("LIST", argv[1], lens[1]) || is("DUMP", argv[1], lens[1]) ||
                         is("STATS", argv[1], lens[1]) || is("EXISTS", argv[1], lens[1])))
            return SLOT_NONE;
        return SLOT_ALL;
    }
    if (in_list(keyless, sizeof(keyless) / sizeof(*keyless), c, cl) || argc < 2) return SLOT_NONE;
    if (is("FCALL", c, cl) || is("FCALL_RO", c, cl) || is("EVAL", c, cl) || is("EVALSHA", c, cl))
        return numkeys_slot(argc, argv, lens);
    if (is("XREAD", c, cl) || is("XREADGROUP", c, cl)) return streams_slot(argc, argv, lens);
    for (size_t i = 0; i < sizeof(multi) / sizeof(*multi); i++)
        if (is(multi[i].name, c, cl)) {
            int last = multi[i].last <= 0 ? argc + multi[i].last : multi[i].last;
            return range(argc, argv, lens, multi[i].first, last, multi[i].step);
        }
    return slot_of_key(argv[1], lens[1]); /* GET, SET, HSET, LRANGE, ...: one key first */
}
