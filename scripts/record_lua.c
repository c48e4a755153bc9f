/* record_lua.c - prints the Lua column list of the audit record from its C
 * table (common/record_cols.h), for functions.lua at build time (Makefile):
 * the Redis functions build and read records by column name, in the order
 * the C code and the writer use, and cannot drift from them. */
#include <stdio.h>

#include "record_cols.h"

/* Lua encodes a column as text ('t') or as a number ('n'). */
#define LUA_TEXT "t"
#define LUA_ERRTEXT "t"
#define LUA_INT "n"
#define LUA_NUM "n"
#define LUA_TIME "n"
#define LUA_DUE "n"
#define ROW_(NAME, col, stype, ctype, field, enc, ...) "    {'" #col "', '" LUA_##enc "'},\n"

int
main(void)
{
    fputs("-- generated from common/record_cols.h by scripts/record_lua.c; do not edit\n"
          "local RECORD_COLS = {\n" RECORD_COLS(ROW_) "}\n",
          stdout);
    return 0;
}
