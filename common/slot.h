/* slot.h - Redis Cluster key slots (pure): CRC16 of a key or of its {hash
 * tag}, and which slot a whole command addresses (docs/DESIGN.md §4). */
#ifndef SYNCQ_SLOT_H
#define SYNCQ_SLOT_H

#include <stddef.h> /* for size_t */

#define SLOT_COUNT 16384
#define SLOT_NONE (-1)  /* the command names no key: any node may serve it */
#define SLOT_CROSS (-2) /* its keys hash to different slots: Cluster refuses it */
#define SLOT_ALL (-3)   /* it must reach every master (FUNCTION LOAD, FLUSHALL) */

/* slot_crc16 is CRC16-CCITT (XModem), the checksum Redis Cluster uses. */
unsigned slot_crc16(const char *buf, size_t len);
/* slot_of_key hashes the part between the first '{' and the next '}' when
 * that part is not empty, otherwise the whole key; 0..16383. */
int slot_of_key(const char *key, size_t len);
/* slot_of_command finds the keys of argv (by command name: FCALL's numkeys,
 * XREAD's STREAMS, two-key moves, ...) and returns their common slot, or
 * SLOT_NONE, SLOT_CROSS or SLOT_ALL. */
int slot_of_command(int argc, const char *const *argv, const size_t *lens);

#endif
