/*
 * Force-included into libjpeg-turbo's jerror.c only (scripts/build-libjpeg.mjs). Its default
 * output_message prints to stderr, which would make the module import WASI's file functions; imgpipe
 * replaces the error manager's message handlers (jpeg.c), so that print is never reached, and as
 * jerror.c's own comment allows, the call is deleted.
 */
#include <stdio.h>
#define fprintf(stream, ...) ((void)(stream), 0)
