/* Common and combined access-log lines to Arrow columns, one pass over each line.
 *
 * Why this is C: the polars regex path costs 1.6 us a line, 1.1-1.5 us of it in the regex capture
 * (regex_automata's one-pass DFA, the fastest engine the regex crate has for captures), and every
 * polars-expression alternative measured (the CSV reader, splits on quotes and spaces) cost as much
 * once its fields were validated. Crates.io is not reachable from the build machines, so a Rust
 * extension is not an option; this file uses only the CPython API and the Arrow C data interface.
 *
 * It reads the lines polars holds (a string-view array, exported through the Arrow PyCapsule
 * interface) and returns columns whose strings are views into those same buffers, so nothing is
 * copied. It accepts only a line that one of access.py's strict regexes (COMMON, COMBINED,
 * COMBINED_DURATION) matches and whose time is a valid `dd/Mon/yyyy:HH:MM:SS +hhmm`; every other
 * line is handed back, by index, to those regexes. tests/parsing/test_clf_split.py checks on
 * generated and mutated lines that both paths give the same records.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Arrow C data interface (stable ABI: arrow.apache.org/docs/format/CDataInterface.html) ---- */

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};

#define ARROW_FLAG_NULLABLE 2

/* ---- the output columns ---- */

enum { SHAPE_COMMON = 1, SHAPE_COMBINED = 2, SHAPE_DURATION = 4 };
enum { TIME_ISO = 8 }; /* with this bit, times are ISO-8601 (the `iso` format) instead of CLF */

enum Column {
    COL_TS, COL_CLIENT, COL_USER, COL_METHOD, COL_PATH, COL_SECTION, COL_PROTOCOL,
    COL_STATUS, COL_BYTES, COL_REFERER, COL_AGENT, COL_DURATION, N_COLUMNS
};

static const char *const COLUMN_NAMES[N_COLUMNS] = {
    "ts", "client", "user", "method", "path", "section", "protocol",
    "status", "bytes", "referer", "agent", "duration",
};
static const char *const COLUMN_FORMATS[N_COLUMNS] = {
    "tsu:UTC", "vu", "vu", "vu", "vu", "vu", "vu", "s", "l", "vu", "vu", "g",
};
/* Bytes per value of the fixed-width columns; 0 for string views (16 bytes each). */
static const int COLUMN_WIDTH[N_COLUMNS] = {8, 0, 0, 0, 0, 0, 0, 2, 8, 0, 0, 8};
static const int COLUMN_NULLABLE[N_COLUMNS] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1};

#define VIEW_BYTES 16

typedef struct {
    int32_t start;
    int32_t len;
} Span;

typedef struct {
    Span spans[N_COLUMNS]; /* of the string columns */
    int64_t ts_us;
    int64_t bytes;
    int16_t status;
    double duration;
    int shape;
} Fields;

/* ---- one line ---- */

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(uint8_t c) { return (uint8_t)((c | 0x20) - 'a') < 26; }

static inline int32_t find(const uint8_t *s, int32_t from, int32_t n, uint8_t c) {
    const uint8_t *p = memchr(s + from, c, (size_t)(n - from));
    return p ? (int32_t)(p - s) : -1;
}

static int two_digits(const uint8_t *s) {
    return is_digit(s[0]) && is_digit(s[1]) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A valid date and time (years 1000-9999, as polars reads them) to microseconds since the epoch,
 * UTC; 0 when any part is out of range (two_digits gives -1 for non-digits). */
static int civil_micros(int century, int years, int month, int day, int hour, int minute, int second,
                        int64_t micros, int64_t zone_seconds, int64_t *out) {
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (century < 10 || years < 0 || month < 1 || month > 12 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59)
        return 0;
    int year = century * 100 + years;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > DAYS[month - 1] + (month == 2 && leap))
        return 0;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    *out = (seconds - zone_seconds) * 1000000 + micros;
    return 1;
}

/* A zone offset `+hh` `mm` in seconds (hours up to 23); 0 for anything else. */
static int zone_offset(uint8_t sign, const uint8_t *hours, const uint8_t *minutes, int64_t *out) {
    int h = two_digits(hours), m = two_digits(minutes);
    if ((sign != '+' && sign != '-') || h < 0 || h > 23 || m < 0 || m > 59)
        return 0;
    *out = (int64_t)(h * 3600 + m * 60) * (sign == '+' ? 1 : -1);
    return 1;
}

/* `dd/Mon/yyyy:HH:MM:SS +hhmm` (26 bytes) to microseconds since the epoch, UTC; 0 if it is not
 * exactly that shape with valid values (the regexes then read it, in whatever shape it has). */
static int clf_time(const uint8_t *t, int32_t len, int64_t *out) {
    static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t zone;
    if (len != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':'
        || t[20] != ' ' || !zone_offset(t[21], t + 22, t + 24, &zone))
        return 0;
    int month = 0;
    for (int m = 0; m < 12; m++) {
        if (memcmp(t + 3, MONTHS + 3 * m, 3) == 0) {
            month = m + 1;
            break;
        }
    }
    return civil_micros(two_digits(t + 7), two_digits(t + 9), month, two_digits(t), two_digits(t + 12),
                        two_digits(t + 15), two_digits(t + 18), 0, zone, out);
}

/* `yyyy-mm-ddTHH:MM:SS[.f]` with 1-6 fraction digits and a zone `Z`, `+hh:mm` or `+hhmm`, to
 * microseconds since the epoch, UTC; 0 for anything else (a space for `T`, a comma, more digits, no
 * zone: the regexes read those, in the configured zone where there is none). */
static int iso_time(const uint8_t *t, int32_t len, int64_t *out) {
    int64_t micros = 0, zone = 0;
    int32_t i = 19;
    if (len < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
        return 0;
    if (t[i] == '.') {
        int digits = 0;
        for (i++; i < len && is_digit(t[i]) && digits < 7; i++, digits++)
            micros = micros * 10 + (t[i] - '0');
        if (digits == 0 || digits > 6)
            return 0;
        for (; digits < 6; digits++)
            micros *= 10;
    }
    if (i == len - 1 && t[i] == 'Z')
        zone = 0;
    else if (!((i == len - 6 && t[i + 3] == ':') || i == len - 5)
             || !zone_offset(t[i], t + i + 1, t + len - 2, &zone))
        return 0;
    return civil_micros(two_digits(t), two_digits(t + 2), two_digits(t + 5), two_digits(t + 8),
                        two_digits(t + 11), two_digits(t + 14), two_digits(t + 17), micros, zone, out);
}

/* Read one line; return the shape it has (0: not one of `shapes`, or not strict). Spans are
 * relative to the line. Each step mirrors a piece of the regexes in access.py. */
static int parse_line(const uint8_t *s, int32_t n, int shapes, Fields *f) {
    int32_t i, j, k;
    /* ^(?P<client>[^ ]+) [^ ]+ (?P<user>[^ ]+) */
    j = find(s, 0, n, ' ');
    if (j <= 0)
        return 0;
    f->spans[COL_CLIENT] = (Span){0, j};
    i = j + 1;
    j = find(s, i, n, ' ');
    if (j <= i)
        return 0;
    i = j + 1;
    j = find(s, i, n, ' ');
    if (j <= i)
        return 0;
    f->spans[COL_USER] = (Span){i, j - i};
    i = j + 1;
    /* \[(?P<ts>[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[^\]]+)\] " (or the ISO time): it ends at the first ] */
    if (i >= n || s[i] != '[')
        return 0;
    j = find(s, i + 1, n, ']');
    if (j < 0 || n - j < 3 || s[j + 1] != ' ' || s[j + 2] != '"')
        return 0;
    if (!(shapes & TIME_ISO ? iso_time : clf_time)(s + i + 1, j - i - 1, &f->ts_us))
        return 0;
    i = j + 3;
    /* (?P<method>[A-Za-z]+) (?P<path>[^ "]*) (?P<protocol>HTTP/[0-9.]+)" */
    for (j = i; j < n && is_alpha(s[j]); j++) {
    }
    if (j == i || j >= n || s[j] != ' ')
        return 0;
    f->spans[COL_METHOD] = (Span){i, j - i};
    i = j + 1;
    for (j = i; j < n && s[j] != ' ' && s[j] != '"'; j++) {
    }
    if (j >= n || s[j] != ' ')
        return 0;
    /* Paths not starting with one "/" get their section from fields.py's rule: left to the regexes. */
    if (j == i || s[i] != '/' || (j - i > 1 && s[i + 1] == '/'))
        return 0;
    f->spans[COL_PATH] = (Span){i, j - i};
    for (k = i + 1; k < j && s[k] != '/' && s[k] != '?' && s[k] != '#' && s[k] != '\t'; k++) {
    }
    f->spans[COL_SECTION] = (Span){i, k - i}; /* "/" + first segment: a prefix of the path */
    i = j + 1;
    if (n - i < 6 || memcmp(s + i, "HTTP/", 5) != 0)
        return 0;
    for (j = i + 5; j < n && (is_digit(s[j]) || s[j] == '.'); j++) {
    }
    if (j == i + 5 || j >= n || s[j] != '"')
        return 0;
    f->spans[COL_PROTOCOL] = (Span){i, j - i};
    i = j + 1;
    /*  (?P<status>[0-9]{3}) (?P<bytes>[0-9]+|-) */
    if (n - i < 6 || s[i] != ' ' || s[i + 4] != ' ' || two_digits(s + i + 1) < 0 || !is_digit(s[i + 3]))
        return 0;
    f->status = (int16_t)(two_digits(s + i + 1) * 10 + (s[i + 3] - '0'));
    i += 5;
    if (s[i] == '-') {
        f->bytes = 0;
        j = i + 1;
    } else {
        int64_t value = 0;
        for (j = i; j < n && is_digit(s[j]); j++) {
            if (j - i == 18)
                return 0; /* may not fit in an int64: the regexes decide */
            value = value * 10 + (s[j] - '0');
        }
        if (j == i)
            return 0;
        f->bytes = value;
    }
    i = j;
    if (i == n)
        return shapes & SHAPE_COMMON;
    /*  "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" */
    if (n - i < 2 || s[i] != ' ' || s[i + 1] != '"')
        return 0;
    i += 2;
    j = find(s, i, n, '"');
    if (j < 0)
        return 0;
    f->spans[COL_REFERER] = (Span){i, j - i};
    i = j + 1;
    if (n - i < 2 || s[i] != ' ' || s[i + 1] != '"')
        return 0;
    i += 2;
    j = find(s, i, n, '"');
    if (j < 0)
        return 0;
    f->spans[COL_AGENT] = (Span){i, j - i};
    i = j + 1;
    if (i == n)
        return shapes & SHAPE_COMBINED;
    /*  (?P<duration>[0-9]+(?:\.[0-9]+)?)$ */
    if (!(shapes & SHAPE_DURATION) || s[i] != ' ')
        return 0;
    i++;
    for (j = i; j < n && is_digit(s[j]); j++) {
    }
    if (j == i)
        return 0;
    if (j < n && s[j] == '.') {
        for (k = j + 1; k < n && is_digit(s[k]); k++) {
        }
        if (k == j + 1)
            return 0;
        j = k;
    }
    if (j != n || j - i > 40)
        return 0;
    char number[48];
    memcpy(number, s + i, (size_t)(j - i));
    number[j - i] = '\0';
    f->duration = strtod(number, NULL); /* correctly rounded, as polars' cast */
    return SHAPE_DURATION;
}

/* ---- output memory, shared by the struct array and its children ---- */

typedef struct {
    int refs; /* the parent array and each child not yet released */
    int64_t capacity; /* records the column buffers have room for */
    struct ArrowArray input; /* kept alive: the output's string views point into its buffers */
    void *values[N_COLUMNS];
    uint8_t *validity[N_COLUMNS];
    const void **buffers[N_COLUMNS + 1];
    struct ArrowArray children[N_COLUMNS];
    struct ArrowArray *child_pointers[N_COLUMNS];
} Output;

static void output_free(Output *out) {
    if (out->input.release != NULL)
        out->input.release(&out->input);
    for (int c = 0; c < N_COLUMNS; c++) {
        free(out->values[c]);
        free(out->validity[c]);
    }
    for (int c = 0; c <= N_COLUMNS; c++)
        free((void *)out->buffers[c]);
    free(out);
}

static void output_unref(Output *out) {
    if (__atomic_sub_fetch(&out->refs, 1, __ATOMIC_ACQ_REL) == 0)
        output_free(out);
}

static void release_child(struct ArrowArray *array) {
    Output *out = array->private_data;
    array->release = NULL;
    output_unref(out);
}

static void release_parent(struct ArrowArray *array) {
    Output *out = array->private_data;
    for (int c = 0; c < N_COLUMNS; c++) {
        struct ArrowArray *child = out->child_pointers[c];
        if (child->release != NULL)
            child->release(child);
    }
    array->release = NULL;
    output_unref(out);
}

/* ---- the schema ---- */

typedef struct {
    struct ArrowSchema children[N_COLUMNS];
    struct ArrowSchema *pointers[N_COLUMNS];
} SchemaChildren;

static void release_schema_child(struct ArrowSchema *schema) { schema->release = NULL; }

static void release_schema(struct ArrowSchema *schema) {
    SchemaChildren *owned = schema->private_data;
    for (int c = 0; c < N_COLUMNS; c++) {
        if (owned->pointers[c]->release != NULL)
            owned->pointers[c]->release(owned->pointers[c]);
    }
    free(owned);
    schema->release = NULL;
}

static int fill_schema(struct ArrowSchema *schema) {
    SchemaChildren *owned = calloc(1, sizeof *owned);
    if (owned == NULL)
        return 0;
    for (int c = 0; c < N_COLUMNS; c++) {
        owned->children[c] = (struct ArrowSchema){
            .format = COLUMN_FORMATS[c],
            .name = COLUMN_NAMES[c],
            .flags = COLUMN_NULLABLE[c] ? ARROW_FLAG_NULLABLE : 0,
            .release = release_schema_child,
        };
        owned->pointers[c] = &owned->children[c];
    }
    *schema = (struct ArrowSchema){
        .format = "+s",
        .name = "",
        .n_children = N_COLUMNS,
        .children = owned->pointers,
        .release = release_schema,
        .private_data = owned,
    };
    return 1;
}

/* ---- capsules ---- */

static void schema_capsule_free(PyObject *capsule) {
    struct ArrowSchema *schema = PyCapsule_GetPointer(capsule, "arrow_schema");
    if (schema != NULL && schema->release != NULL)
        schema->release(schema);
    free(schema);
}

static void array_capsule_free(PyObject *capsule) {
    struct ArrowArray *array = PyCapsule_GetPointer(capsule, "arrow_array");
    if (array != NULL && array->release != NULL)
        array->release(array);
    free(array);
}

/* ---- the parse ---- */

static void put_view(uint8_t *view, const uint8_t *line, Span span, int32_t buffer, int32_t offset) {
    memset(view, 0, VIEW_BYTES);
    memcpy(view, &span.len, 4);
    if (span.len <= 12) {
        memcpy(view + 4, line + span.start, (size_t)span.len);
    } else {
        int32_t at = offset + span.start;
        memcpy(view + 4, line + span.start, 4);
        memcpy(view + 8, &buffer, 4);
        memcpy(view + 12, &at, 4);
    }
}

static inline void set_valid(uint8_t *bits, int64_t row) { bits[row >> 3] |= (uint8_t)(1u << (row & 7)); }

static int is_dash(const uint8_t *line, Span span) { return span.len == 1 && line[span.start] == '-'; }

/* Make room for `need` records: buffers grow with the records, not with the lines, so a chunk of
 * short or foreign lines costs nothing here. */
static int reserve(Output *out, int64_t need) {
    if (need <= out->capacity)
        return 1;
    int64_t grown = out->capacity * 2 > need ? out->capacity * 2 : (need > 1024 ? need : 1024);
    for (int c = 0; c < N_COLUMNS; c++) {
        size_t width = COLUMN_WIDTH[c] ? (size_t)COLUMN_WIDTH[c] : VIEW_BYTES;
        void *values = realloc(out->values[c], (size_t)grown * width);
        if (values == NULL)
            return 0;
        out->values[c] = values;
        if (COLUMN_NULLABLE[c]) {
            size_t old_bytes = (size_t)(out->capacity + 7) / 8, new_bytes = (size_t)(grown + 7) / 8;
            uint8_t *bits = realloc(out->validity[c], new_bytes);
            if (bits == NULL)
                return 0;
            memset(bits + old_bytes, 0, new_bytes - old_bytes);
            out->validity[c] = bits;
        }
    }
    out->capacity = grown;
    return 1;
}

/* Parse every line of `out->input`; return the number of records (-1: out of memory), and the rows
 * of the lines left in `unmatched`. */
static int64_t parse_all(Output *out, int shapes, uint32_t *unmatched, int64_t *n_unmatched,
                         int64_t null_counts[N_COLUMNS]) {
    const struct ArrowArray *in = &out->input;
    const uint8_t *in_valid = in->buffers[0];
    const uint8_t *in_views = in->buffers[1];
    int64_t n_data = in->n_buffers - 3;
    int64_t records = 0, skipped = 0;
    static const int SPANS[] = {COL_CLIENT, COL_USER, COL_METHOD, COL_PATH, COL_SECTION, COL_PROTOCOL,
                                COL_REFERER, COL_AGENT};
    for (int64_t row = 0; row < in->length; row++) {
        int64_t at = row + in->offset;
        const uint8_t *view = in_views + VIEW_BYTES * at;
        int32_t len, buffer, offset;
        Fields f;
        memcpy(&len, view, 4);
        memcpy(&buffer, view + 8, 4);
        memcpy(&offset, view + 12, 4);
        /* A strict line is over 12 bytes long, so its bytes are in a data buffer, never inline. */
        if ((in_valid != NULL && !((in_valid[at >> 3] >> (at & 7)) & 1)) || len <= 12 || buffer < 0
            || buffer >= n_data) {
            unmatched[skipped++] = (uint32_t)row;
            continue;
        }
        const uint8_t *line = (const uint8_t *)in->buffers[2 + buffer] + offset;
        memset(&f, 0, sizeof f);
        f.shape = parse_line(line, len, shapes, &f);
        if (f.shape == 0) {
            unmatched[skipped++] = (uint32_t)row;
            continue;
        }
        if (!reserve(out, records + 1))
            return -1;
        const Span *spans = f.spans;
        int has_tail = f.shape != SHAPE_COMMON;
        for (size_t k = 0; k < sizeof SPANS / sizeof SPANS[0]; k++) {
            int c = SPANS[k];
            uint8_t *dst = (uint8_t *)out->values[c] + VIEW_BYTES * records;
            int null = (c == COL_USER && is_dash(line, spans[c]))
                       || ((c == COL_REFERER || c == COL_AGENT) && (!has_tail || is_dash(line, spans[c])));
            if (null) {
                memset(dst, 0, VIEW_BYTES);
                null_counts[c]++;
            } else {
                put_view(dst, line, spans[c], buffer, offset);
                if (COLUMN_NULLABLE[c])
                    set_valid(out->validity[c], records);
            }
        }
        ((int64_t *)out->values[COL_TS])[records] = f.ts_us;
        ((int16_t *)out->values[COL_STATUS])[records] = f.status;
        ((int64_t *)out->values[COL_BYTES])[records] = f.bytes;
        ((double *)out->values[COL_DURATION])[records] = f.duration;
        if (f.shape == SHAPE_DURATION)
            set_valid(out->validity[COL_DURATION], records);
        else
            null_counts[COL_DURATION]++;
        records++;
    }
    *n_unmatched = skipped;
    return records;
}

/* Point each child array at its buffers; string views share the input's data buffers. */
static int build_arrays(Output *out, int64_t records, const int64_t null_counts[N_COLUMNS],
                        struct ArrowArray *parent) {
    const struct ArrowArray *in = &out->input;
    int64_t n_data = in->n_buffers - 3;
    for (int c = 0; c < N_COLUMNS; c++) {
        int strings = COLUMN_WIDTH[c] == 0;
        int64_t n_buffers = strings ? 3 + n_data : 2;
        const void **buffers = calloc((size_t)n_buffers, sizeof *buffers);
        if (buffers == NULL)
            return 0;
        out->buffers[c] = buffers;
        buffers[0] = COLUMN_NULLABLE[c] ? out->validity[c] : NULL;
        buffers[1] = out->values[c];
        if (strings) {
            for (int64_t b = 0; b < n_data; b++)
                buffers[2 + b] = in->buffers[2 + b];
            buffers[2 + n_data] = in->buffers[2 + n_data]; /* the data buffers' sizes */
        }
        out->children[c] = (struct ArrowArray){
            .length = records,
            .null_count = null_counts[c],
            .n_buffers = n_buffers,
            .buffers = buffers,
            .release = release_child,
            .private_data = out,
        };
        out->child_pointers[c] = &out->children[c];
    }
    const void **parent_buffers = calloc(1, sizeof *parent_buffers);
    if (parent_buffers == NULL)
        return 0;
    out->buffers[N_COLUMNS] = parent_buffers;
    out->refs = N_COLUMNS + 1;
    *parent = (struct ArrowArray){
        .length = records,
        .n_buffers = 1,
        .n_children = N_COLUMNS,
        .buffers = parent_buffers,
        .children = out->child_pointers,
        .release = release_parent,
        .private_data = out,
    };
    return 1;
}

/* Move the one array of `stream` into `out`; set a Python error and return 0 otherwise. */
static int take_input(struct ArrowArrayStream *stream, struct ArrowArray *out) {
    struct ArrowSchema schema;
    struct ArrowArray extra;
    if (stream->get_schema(stream, &schema) != 0) {
        PyErr_SetString(PyExc_ValueError, "could not read the lines' schema");
        return 0;
    }
    int is_view = strcmp(schema.format, "vu") == 0;
    schema.release(&schema);
    if (!is_view) {
        PyErr_SetString(PyExc_TypeError, "lines must be a polars String series (Arrow string view)");
        return 0;
    }
    if (stream->get_next(stream, out) != 0) {
        PyErr_SetString(PyExc_ValueError, "could not read the lines");
        return 0;
    }
    if (out->release == NULL) {
        PyErr_SetString(PyExc_ValueError, "no lines given");
        return 0;
    }
    if (stream->get_next(stream, &extra) != 0 || extra.release != NULL) {
        if (extra.release != NULL)
            extra.release(&extra);
        out->release(out);
        PyErr_SetString(PyExc_ValueError, "lines must be in one chunk (rechunk them)");
        return 0;
    }
    if (out->n_buffers < 3 || out->length > INT32_MAX) {
        out->release(out);
        PyErr_SetString(PyExc_ValueError, "unexpected layout of the lines");
        return 0;
    }
    return 1;
}


PyDoc_STRVAR(parse_doc,
             "parse(stream, shapes) -> (schema, array, unmatched)\n\n"
             "Read the lines of an Arrow string-view stream capsule (one chunk). ``shapes``: a bit mask, "
             "1 common, 2 combined, 4 combined with a request time, 8 ISO times. Returns the Arrow "
             "schema and struct array capsules of the records, and the row numbers of the lines left "
             "unread as native uint32 bytes.");

static PyObject *parse(PyObject *self, PyObject *args) {
    PyObject *capsule;
    int shapes;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi", &capsule, &shapes))
        return NULL;
    struct ArrowArrayStream *stream = PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (stream == NULL)
        return NULL;
    if (stream->release == NULL) {
        PyErr_SetString(PyExc_ValueError, "the stream was already consumed");
        return NULL;
    }
    Output *out = calloc(1, sizeof *out);
    if (out == NULL)
        return PyErr_NoMemory();
    int taken = take_input(stream, &out->input);
    stream->release(stream);
    if (!taken) {
        free(out);
        return NULL;
    }
    int64_t rows = out->input.length;
    uint32_t *unmatched = malloc((rows > 0 ? (size_t)rows : 1) * sizeof *unmatched);
    struct ArrowSchema *schema = calloc(1, sizeof *schema);
    struct ArrowArray *array = calloc(1, sizeof *array);
    if (unmatched == NULL || schema == NULL || array == NULL || !reserve(out, 1)) {
        free(unmatched);
        free(schema);
        free(array);
        output_free(out);
        return PyErr_NoMemory();
    }
    int64_t records, skipped = 0, null_counts[N_COLUMNS] = {0};
    Py_BEGIN_ALLOW_THREADS;
    records = parse_all(out, shapes, unmatched, &skipped, null_counts);
    Py_END_ALLOW_THREADS;
    if (records < 0 || !build_arrays(out, records, null_counts, array) || !fill_schema(schema)) {
        free(unmatched);
        free(schema);
        free(array);
        output_free(out);
        return PyErr_NoMemory();
    }
    /* 4 bytes a row (a list of ints would cost 36 for each line of a chunk of garbage). */
    PyObject *left = PyBytes_FromStringAndSize((const char *)unmatched, (Py_ssize_t)skipped * 4);
    free(unmatched);
    PyObject *schema_capsule = PyCapsule_New(schema, "arrow_schema", schema_capsule_free);
    if (schema_capsule == NULL) {
        schema->release(schema);
        free(schema);
    }
    PyObject *array_capsule = PyCapsule_New(array, "arrow_array", array_capsule_free);
    if (array_capsule == NULL) {
        array->release(array);
        free(array);
    }
    if (left == NULL || schema_capsule == NULL || array_capsule == NULL) {
        Py_XDECREF(left);
        Py_XDECREF(schema_capsule);
        Py_XDECREF(array_capsule);
        return NULL;
    }
    return Py_BuildValue("(NNN)", schema_capsule, array_capsule, left);
}

static PyMethodDef METHODS[] = {
    {"parse", parse, METH_VARARGS, parse_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_clf", "Common and combined log lines to Arrow columns.", -1, METHODS,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__clf(void) { return PyModule_Create(&MODULE); }
