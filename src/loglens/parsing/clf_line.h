/* One access-log line to its fields: the step of the C line reader that mirrors access.py's
 * strict regexes. See _clf.c for why this is C. */
#ifndef LOGLENS_CLF_LINE_H
#define LOGLENS_CLF_LINE_H

#include <stdint.h>

/* Bits of the shapes mask: the line shapes read, and how times are written. */
enum { SHAPE_COMMON = 1, SHAPE_COMBINED = 2, SHAPE_DURATION = 4 };
enum { TIME_ISO = 8 }; /* with this bit, times are ISO-8601 (the `iso` format) instead of CLF */

/* The record columns, in the order the reader returns them (COL_LINE: the line's row number). */
enum Column {
    COL_TS, COL_CLIENT, COL_USER, COL_METHOD, COL_PATH, COL_SECTION, COL_PROTOCOL,
    COL_STATUS, COL_BYTES, COL_REFERER, COL_AGENT, COL_DURATION, COL_LINE, N_COLUMNS
};

/* Where a field lies in its line. */
typedef struct {
    int32_t start;
    int32_t len;
} Span;

/* The fields of one line. */
typedef struct {
    Span spans[N_COLUMNS]; /* of the string columns */
    int64_t ts_us;         /* microseconds since the epoch, UTC */
    int64_t bytes;
    int16_t status;
    double duration;
    int shape; /* the SHAPE_ bit the line has */
} Fields;

/* Prepare the reader (its C locale for numbers); 0 when out of memory. Call once before reading. */
int clf_line_init(void);

/* Read the `n` bytes of one line; return its shape, or 0 when it is not one of `shapes` or not
 * strict (the regexes then read it). */
int clf_parse_line(const uint8_t *s, int32_t n, int shapes, Fields *f);

#endif
