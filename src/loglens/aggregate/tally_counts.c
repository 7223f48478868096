/* The tables of the panels' tally: open addressing, keyed by (key, part, extra), each key's text kept
 * in an arena; and the reading of a batch's records into them (the module is _tally.c, which says why
 * this is C). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tally_counts.h"

const int GROUP_STRING[N_GROUPS] = {
    S_PATH, S_REFERER, S_CLIENT, S_AGENT, -1, -1, S_USER, S_VHOST, S_METHOD, S_SECTION, S_SECTION, -1,
};
#define INITIAL_SLOTS 1024

/* ---- tables ---- */

static int table_init(Table *table, size_t slots) {
    table->slots = aligned_alloc(64, slots * sizeof(Entry));
    if (table->slots != NULL)
        memset(table->slots, 0, slots * sizeof(Entry));
    table->mask = slots - 1;
    table->count = 0;
    return table->slots != NULL;
}

static size_t slot_of(const Counts *counts, const Table *table, uint64_t key, uint32_t part, uint32_t extra) {
    uint64_t h = (key ^ ((uint64_t)part << 32 | extra) * VISITOR_MIX) * counts->scatter;
    return (size_t)(h ^ (h >> 29)) & table->mask;
}

static int table_grow(Counts *counts, Table *table) {
    Table bigger;
    if (!table_init(&bigger, (table->mask + 1) * 2))
        return 0;
    for (size_t i = 0; i <= table->mask; i++) {
        Entry *entry = &table->slots[i];
        if (!entry->used)
            continue;
        size_t slot = slot_of(counts, &bigger, entry->key, entry->part, entry->extra);
        while (bigger.slots[slot].used)
            slot = (slot + 1) & bigger.mask;
        bigger.slots[slot] = *entry;
    }
    bigger.count = table->count;
    free(table->slots);
    *table = bigger;
    return 1;
}

/* The entry of (key, part, extra), created empty when new (*fresh set); NULL when out of memory.
 * Inlined, as count() is, into each of a record's counts: measured faster (bench/README.md). */
static inline __attribute__((always_inline)) Entry *find(Counts *counts, Table *table, uint64_t key,
                                                         uint32_t part, uint32_t extra, int *fresh) {
    if ((table->count + 1) * 2 > table->mask + 1 && !table_grow(counts, table))
        return NULL;
    size_t slot = slot_of(counts, table, key, part, extra);
    for (;;) {
        Entry *entry = &table->slots[slot];
        if (!entry->used) {
            *entry = (Entry){.key = key, .part = part, .extra = extra, .text = -1, .used = 1};
            table->count++;
            *fresh = 1;
            return entry;
        }
        if (entry->key == key && entry->part == part && entry->extra == extra) {
            *fresh = 0;
            return entry;
        }
        slot = (slot + 1) & table->mask;
    }
}

static int keep_text(Counts *counts, Entry *entry, const char *text, uint32_t length) {
    if (counts->arena_used + length > counts->arena_size) {
        size_t size = counts->arena_size ? counts->arena_size : 65536;
        while (counts->arena_used + length > size)
            size *= 2;
        char *bigger = realloc(counts->arena, size);
        if (bigger == NULL)
            return 0;
        counts->arena = bigger;
        counts->arena_size = size;
    }
    memcpy(counts->arena + counts->arena_used, text, length);
    entry->text = (int64_t)counts->arena_used;
    entry->length = length;
    counts->arena_used += length;
    return 1;
}

/* Count one record under (key, part, extra) of `group`; its text kept when the key is new. */
static inline __attribute__((always_inline)) int count(Counts *counts, int group, uint64_t key, uint32_t part,
                                                       uint32_t extra, const char *text, uint32_t length,
                                                       int64_t bytes, double served) {
    int fresh;
    Entry *entry = find(counts, &counts->tables[group], key, part, extra, &fresh);
    if (entry == NULL)
        return 0;
    if (fresh && text != NULL && !keep_text(counts, entry, text, length))
        return 0;
    entry->hits++;
    entry->bytes += bytes;
    if (!isnan(served)) {
        entry->served += served;
        entry->timed++;
    }
    return 1;
}

/* ---- the batch's columns ---- */

/* The columns `add` reads, in order: the Arrow format each must have. */
enum { C_TS, C_STATUS, C_BYTES, C_DURATION, C_STRINGS, N_COLUMNS = C_STRINGS + N_STRINGS };
static const char *const COLUMN_FORMATS[C_STRINGS] = {"tsu:UTC", "s", "l", "g"};

/* One chunk's column: its validity (NULL: none missing), values, and offset within them. */
typedef struct {
    const uint8_t *validity;
    const uint8_t *values;
    int64_t offset;
    const struct ArrowArray *array;
} Column;

static int present(const Column *column, int64_t row) {
    int64_t at = column->offset + row;
    return column->validity == NULL || ((column->validity[at >> 3] >> (at & 7)) & 1);
}

/* The text of a string view; 0 when the view points outside the chunk's buffers. */
static int view_text(const Column *column, int64_t row, const char **text, uint32_t *length) {
    const uint8_t *view = column->values + 16 * (column->offset + row);
    int32_t size;
    memcpy(&size, view, 4);
    if (size < 0)
        return 0;
    *length = (uint32_t)size;
    if (size <= 12) {
        *text = (const char *)view + 4;
        return 1;
    }
    int32_t buffer, offset;
    memcpy(&buffer, view + 8, 4);
    memcpy(&offset, view + 12, 4);
    if (buffer < 0 || buffer >= column->array->n_buffers - 3 || offset < 0)
        return 0;
    *text = (const char *)column->array->buffers[2 + buffer] + offset;
    return 1;
}

/* Floor division, for times before the epoch. */
static int64_t floor_div(int64_t value, int64_t by) {
    int64_t quotient = value / by;
    return quotient - (value % by != 0 && (value < 0) != (by < 0));
}

#define MICROS_PER_HOUR INT64_C(3600000000)

/* One access record, read: what its groupings count. */
typedef struct {
    int64_t code;
    int64_t bytes;
    int64_t hour; /* INT64_MIN: no time */
    double served; /* NaN: not timed */
    uint64_t hash[N_STRINGS];
    const char *text[N_STRINGS]; /* NULL: none */
    uint32_t length[N_STRINGS];
} Record;

/* Read row `r` of the columns into `record`; 0 when not an access record, -2 when a view is broken. */
static int read_record(const Column *columns, int64_t r, Record *record) {
    if (!present(&columns[C_STATUS], r))
        return 0;
    int16_t code;
    memcpy(&code, columns[C_STATUS].values + 2 * (columns[C_STATUS].offset + r), 2);
    record->code = code;
    record->bytes = 0;
    if (present(&columns[C_BYTES], r)) {
        memcpy(&record->bytes, columns[C_BYTES].values + 8 * (columns[C_BYTES].offset + r), 8);
        record->bytes = record->bytes < 0 ? 0 : record->bytes;
    }
    record->served = NAN;
    if (present(&columns[C_DURATION], r)) {
        double served;
        memcpy(&served, columns[C_DURATION].values + 8 * (columns[C_DURATION].offset + r), 8);
        record->served = isfinite(served) ? (served < 0 ? 0.0 : served) : NAN;
    }
    record->hour = INT64_MIN;
    if (present(&columns[C_TS], r)) {
        int64_t micros;
        memcpy(&micros, columns[C_TS].values + 8 * (columns[C_TS].offset + r), 8);
        record->hour = floor_div(micros, MICROS_PER_HOUR);
    }
    for (int s = 0; s < N_STRINGS; s++) {
        const Column *column = &columns[C_STRINGS + s];
        record->text[s] = NULL;
        record->hash[s] = 0;
        if (!present(column, r))
            continue;
        if (!view_text(column, r, &record->text[s], &record->length[s]))
            return -2;
        record->hash[s] = XXH3_64bits(record->text[s], record->length[s]);
    }
    return 1;
}

static uint64_t visitor_of(const Record *record) {
    return record->hash[S_CLIENT] ^ (record->hash[S_AGENT] * VISITOR_MIX);
}

/* Count one record into every grouping; 0 when out of memory. */
static int count_record(Counts *counts, const Record *record, uint32_t part, uint32_t batch) {
    int64_t bytes = record->bytes;
    double served = record->served;
    for (int group = 0; group < N_GROUPS; group++) {
        int s = GROUP_STRING[group];
        if (s < 0 || record->text[s] == NULL || (group == G_SECTION_ERRORS && record->code < 400))
            continue;
        uint32_t extra = group == G_PATHS ? record->code == 404 : group == G_AGENTS ? batch : 0;
        if (!count(counts, group, record->hash[s], part, extra, record->text[s], record->length[s], bytes, served))
            return 0;
    }
    if (!count(counts, G_STATUS, (uint64_t)record->code, part, 0, NULL, 0, bytes, served))
        return 0;
    if (record->hour == INT64_MIN)
        return 1;
    uint32_t day = (uint32_t)(int32_t)floor_div(record->hour, 24);
    return count(counts, G_HOURS, (uint64_t)record->hour, part, 0, NULL, 0, bytes, served) &&
           count(counts, G_DAYS, visitor_of(record), part, day, NULL, 0, 0, NAN);
}

/* Count every record of one chunk (a struct array of the columns); -1 when out of memory, -2 when a
 * string view is not one. */
int counts_chunk(Counts *counts, const struct ArrowArray *chunk, uint32_t part, uint32_t batch) {
    Column columns[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS; c++) {
        const struct ArrowArray *child = chunk->children[c];
        columns[c] = (Column){
            .validity = child->null_count == 0 ? NULL : child->buffers[0],
            .values = child->buffers[1],
            .offset = chunk->offset + child->offset,
            .array = child,
        };
    }
    for (int64_t r = 0; r < chunk->length; r++) {
        Record record;
        int read = read_record(columns, r, &record);
        if (read < 0)
            return read;
        if (read > 0 && !count_record(counts, &record, part, batch))
            return -1;
    }
    return 0;
}

/* Whether `schema` is a struct of the columns `add` reads, each of its format. */
int counts_readable(const struct ArrowSchema *schema) {
    if (strcmp(schema->format, "+s") != 0 || schema->n_children != N_COLUMNS)
        return 0;
    for (int c = 0; c < N_COLUMNS; c++) {
        const char *format = c < C_STRINGS ? COLUMN_FORMATS[c] : "vu";
        if (strcmp(schema->children[c]->format, format) != 0)
            return 0;
    }
    return 1;
}

/* Whether a chunk has the layout `readable` promised. */
int counts_well_formed(const struct ArrowArray *chunk) {
    if (chunk->n_children != N_COLUMNS)
        return 0;
    for (int c = 0; c < N_COLUMNS; c++) {
        const struct ArrowArray *child = chunk->children[c];
        if (child->length < chunk->offset + chunk->length || child->n_buffers < (c < C_STRINGS ? 2 : 3))
            return 0;
    }
    return 1;
}


void counts_clear(Counts *counts) {
    for (int g = 0; g < N_GROUPS; g++) {
        free(counts->tables[g].slots);
        counts->tables[g] = (Table){0};
    }
    free(counts->arena);
    counts->arena = NULL;
    counts->arena_used = counts->arena_size = 0;
}

int counts_reset(Counts *counts) {
    counts_clear(counts);
    for (int g = 0; g < N_GROUPS; g++)
        if (!table_init(&counts->tables[g], INITIAL_SLOTS))
            return 0;
    return 1;
}
