/*
 * Forced into lcms's cmsio0.c and cmsplugin.c by scripts/build-lcms2.mjs, so that the module reads
 * no files and has no clock and imports nothing but Emscripten's memory-growth notice
 * (src/wasm/instance.ts). imgpipe opens profiles from memory only: lcms's file I/O handler becomes
 * one that can open nothing. lcms stamps every profile it opens or creates with the time, which
 * nothing here reads: the time is the epoch (1 January 1970, UTC), with no time zone to look up.
 */
#include <stdio.h>
#include <time.h>

#define fopen(name, mode) ((FILE*)NULL)
#define fclose(file) (0)
#define fread(data, size, count, file) ((size_t)0)
#define fwrite(data, size, count, file) ((size_t)0)
#define fseek(file, offset, whence) (-1)
#define ftell(file) (-1L)
#define time(t) ((time_t)0)
static struct tm imgpipe_epoch = { .tm_mday = 1, .tm_year = 70 };
#define gmtime(t) (&imgpipe_epoch)
