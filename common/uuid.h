/* uuid.h - UUID v4 and v7 text ids. */
#ifndef SYNCQ_UUID_H
#define SYNCQ_UUID_H

#include <stdint.h> /* for uint8_t */

#define UUID_STR_LEN 37 /* 36 chars + NUL */

/* uuid_v4 / uuid_v7 write the canonical lowercase form into out[37]. Random
 * bytes come from getrandom(2); v7 leads with Unix milliseconds so ids sort by
 * time (kinder to B-tree indexes). Return 0 or -1 (no entropy). */
int uuid_v4(char out[UUID_STR_LEN]);
int uuid_v7(char out[UUID_STR_LEN]);
/* uuid_format formats 16 bytes (pure, for tests). */
void uuid_format(const uint8_t b[16], char out[UUID_STR_LEN]);
/* random_hex fills out with 2*n hex chars + NUL from n random bytes. */
int random_hex(char *out, int n);

#endif
