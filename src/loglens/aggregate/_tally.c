/* The web page's goaccess panels grouped in one pass over each batch: per grouping (requested files,
 * referrers, hosts, agents, hours, status codes, users, virtual hosts, methods, sections and their
 * errors, visitors per day) and per key, the hits, bytes, time served and how many were timed.
 *
 * Why this is C: polars grouping the same records by each of these keys, one group-by per key over
 * 64-bit hashes of the text columns, cost `loglens run` about a quarter more CPU than it spends without
 * the panels (bench/README.md). Here each record is read once, its strings hashed by xxHash (XXH3) and
 * counted in open-addressing tables that live across batches, so nothing is held but the keys seen.
 * A key is its string's 64-bit hash, as in the polars path (aggregate/tally.py): two strings with one
 * hash would count as one, the first one's text kept. Where a key lands in a table is its hash times a
 * random odd number chosen at start, so input cannot aim many keys at one slot.
 *
 * The records come as polars holds them: a DataFrame exported through the Arrow PyCapsule interface (a
 * stream of struct arrays, strings as string views), any number of chunks. `take` hands back every
 * table's entries and empties them; the caller bounds how much is held by taking at `entries()` or
 * `text_bytes()` limits of its own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../parsing/arrow_capsule.h"

enum { S_PATH, S_REFERER, S_CLIENT, S_AGENT, S_USER, S_VHOST, S_METHOD, S_SECTION, N_STRINGS };
enum {
    G_PATHS, G_REFERRERS, G_CLIENTS, G_AGENTS, G_HOURS, G_STATUS, G_USERS, G_VHOSTS, G_METHODS,
    G_SECTIONS, G_SECTION_ERRORS, G_DAYS, N_GROUPS
};
/* Each grouping's string column; -1: its key is a number. */
static const int GROUP_STRING[N_GROUPS] = {
    S_PATH, S_REFERER, S_CLIENT, S_AGENT, -1, -1, S_USER, S_VHOST, S_METHOD, S_SECTION, S_SECTION, -1,
};
/* The multiplier of the agent's hash in a visitor's (client, agent) hash, as in aggregate/tally.py. */
#define VISITOR_MIX UINT64_C(0x9E3779B97F4A7C15)
#define INITIAL_SLOTS 1024

/* One key's sums; the layout tally.py reads (ENTRY). */
typedef struct {
    uint64_t key;
    uint32_t part;
    uint32_t extra;
    uint32_t used;
    uint32_t length;
    int64_t hits;
    int64_t bytes;
    int64_t timed;
    double served;
    int64_t text; /* the key's text in the arena; -1: a number */
} Entry; /* one cache line, and the tables are aligned to them: a probe reads one line */

typedef struct {
    Entry *slots;
    size_t mask;
    size_t count;
} Table;

typedef struct {
    PyObject_HEAD
    Table tables[N_GROUPS];
    char *arena;
    size_t arena_used;
    size_t arena_size;
    uint64_t scatter; /* odd; where a key lands */
} Tally;

/* ---- tables ---- */

static int table_init(Table *table, size_t slots) {
    table->slots = aligned_alloc(64, slots * sizeof(Entry));
    if (table->slots != NULL)
        memset(table->slots, 0, slots * sizeof(Entry));
    table->mask = slots - 1;
    table->count = 0;
    return table->slots != NULL;
}

static size_t slot_of(const Tally *tally, const Table *table, uint64_t key, uint32_t part, uint32_t extra) {
    uint64_t h = (key ^ ((uint64_t)part << 32 | extra) * VISITOR_MIX) * tally->scatter;
    return (size_t)(h ^ (h >> 29)) & table->mask;
}

static int table_grow(Tally *tally, Table *table) {
    Table bigger;
    if (!table_init(&bigger, (table->mask + 1) * 2))
        return 0;
    for (size_t i = 0; i <= table->mask; i++) {
        Entry *entry = &table->slots[i];
        if (!entry->used)
            continue;
        size_t slot = slot_of(tally, &bigger, entry->key, entry->part, entry->extra);
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
static inline __attribute__((always_inline)) Entry *find(Tally *tally, Table *table, uint64_t key,
                                                         uint32_t part, uint32_t extra, int *fresh) {
    if ((table->count + 1) * 2 > table->mask + 1 && !table_grow(tally, table))
        return NULL;
    size_t slot = slot_of(tally, table, key, part, extra);
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

static int keep_text(Tally *tally, Entry *entry, const char *text, uint32_t length) {
    if (tally->arena_used + length > tally->arena_size) {
        size_t size = tally->arena_size ? tally->arena_size : 65536;
        while (tally->arena_used + length > size)
            size *= 2;
        char *bigger = realloc(tally->arena, size);
        if (bigger == NULL)
            return 0;
        tally->arena = bigger;
        tally->arena_size = size;
    }
    memcpy(tally->arena + tally->arena_used, text, length);
    entry->text = (int64_t)tally->arena_used;
    entry->length = length;
    tally->arena_used += length;
    return 1;
}

/* Count one record under (key, part, extra) of `group`; its text kept when the key is new. */
static inline __attribute__((always_inline)) int count(Tally *tally, int group, uint64_t key, uint32_t part,
                                                       uint32_t extra, const char *text, uint32_t length,
                                                       int64_t bytes, double served) {
    int fresh;
    Entry *entry = find(tally, &tally->tables[group], key, part, extra, &fresh);
    if (entry == NULL)
        return 0;
    if (fresh && text != NULL && !keep_text(tally, entry, text, length))
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
static int count_record(Tally *tally, const Record *record, uint32_t part, uint32_t batch) {
    int64_t bytes = record->bytes;
    double served = record->served;
    for (int group = 0; group < N_GROUPS; group++) {
        int s = GROUP_STRING[group];
        if (s < 0 || record->text[s] == NULL || (group == G_SECTION_ERRORS && record->code < 400))
            continue;
        uint32_t extra = group == G_PATHS ? record->code == 404 : group == G_AGENTS ? batch : 0;
        if (!count(tally, group, record->hash[s], part, extra, record->text[s], record->length[s], bytes, served))
            return 0;
    }
    if (!count(tally, G_STATUS, (uint64_t)record->code, part, 0, NULL, 0, bytes, served))
        return 0;
    if (record->hour == INT64_MIN)
        return 1;
    uint32_t day = (uint32_t)(int32_t)floor_div(record->hour, 24);
    return count(tally, G_HOURS, (uint64_t)record->hour, part, 0, NULL, 0, bytes, served) &&
           count(tally, G_DAYS, visitor_of(record), part, day, NULL, 0, 0, NAN);
}

/* Count every record of one chunk (a struct array of the columns); -1 when out of memory, -2 when a
 * string view is not one. */
static int count_chunk(Tally *tally, const struct ArrowArray *chunk, uint32_t part, uint32_t batch) {
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
        if (read > 0 && !count_record(tally, &record, part, batch))
            return -1;
    }
    return 0;
}

/* Whether `schema` is a struct of the columns `add` reads, each of its format. */
static int readable(const struct ArrowSchema *schema) {
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
static int well_formed(const struct ArrowArray *chunk) {
    if (chunk->n_children != N_COLUMNS)
        return 0;
    for (int c = 0; c < N_COLUMNS; c++) {
        const struct ArrowArray *child = chunk->children[c];
        if (child->length < chunk->offset + chunk->length || child->n_buffers < (c < C_STRINGS ? 2 : 3))
            return 0;
    }
    return 1;
}

/* ---- the Python type ---- */

static void tally_clear(Tally *tally) {
    for (int g = 0; g < N_GROUPS; g++) {
        free(tally->tables[g].slots);
        tally->tables[g] = (Table){0};
    }
    free(tally->arena);
    tally->arena = NULL;
    tally->arena_used = tally->arena_size = 0;
}

static int tally_reset(Tally *tally) {
    tally_clear(tally);
    for (int g = 0; g < N_GROUPS; g++)
        if (!table_init(&tally->tables[g], INITIAL_SLOTS))
            return 0;
    return 1;
}

static int tally_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"scatter", NULL};
    unsigned long long scatter;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "K", names, &scatter))
        return -1;
    Tally *tally = (Tally *)self;
    tally->scatter = (uint64_t)scatter | 1;
    if (!tally_reset(tally)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void tally_dealloc(PyObject *self) {
    tally_clear((Tally *)self);
    Py_TYPE(self)->tp_free(self);
}

PyDoc_STRVAR(add_doc,
             "add(stream, part, batch)\n\n"
             "Count the records of an Arrow stream capsule of structs (a polars DataFrame of ts, status, "
             "bytes, duration, path, referer, client, agent, user, vhost, method and section, typed as "
             "loglens's records are); records without a status are not access records and are skipped. "
             "``part`` keys the records' rows, ``batch`` their agents'.");

/* Count every chunk of `stream`; a Python error and 0 otherwise. */
static int add_stream(Tally *tally, struct ArrowArrayStream *stream, uint32_t part, uint32_t batch) {
    struct ArrowSchema schema;
    if (stream->get_schema(stream, &schema) != 0) {
        PyErr_SetString(PyExc_ValueError, "could not read the records' schema");
        return 0;
    }
    int ok = readable(&schema);
    schema.release(&schema);
    if (!ok) {
        PyErr_SetString(PyExc_TypeError, "records must be the tally's columns, typed as loglens's records");
        return 0;
    }
    for (;;) {
        struct ArrowArray chunk;
        if (stream->get_next(stream, &chunk) != 0) {
            PyErr_SetString(PyExc_ValueError, "could not read the records");
            return 0;
        }
        if (chunk.release == NULL)
            return 1;
        int failed = -3;
        if (well_formed(&chunk)) {
            Py_BEGIN_ALLOW_THREADS;
            failed = count_chunk(tally, &chunk, part, batch);
            Py_END_ALLOW_THREADS;
        }
        chunk.release(&chunk);
        if (failed == -1) {
            PyErr_NoMemory();
            return 0;
        }
        if (failed) {
            PyErr_SetString(PyExc_ValueError, failed == -2 ? "a string view points outside its buffers"
                                                            : "unexpected layout of the records");
            return 0;
        }
    }
}

static PyObject *tally_add(PyObject *self, PyObject *args) {
    PyObject *capsule;
    unsigned int part, batch;
    if (!PyArg_ParseTuple(args, "OII", &capsule, &part, &batch))
        return NULL;
    struct ArrowArrayStream *stream = capsule_stream(capsule);
    if (stream == NULL)
        return NULL;
    int added = add_stream((Tally *)self, stream, part, batch);
    stream->release(stream);
    if (!added)
        return NULL;
    Py_RETURN_NONE;
}

/* One grouping's entries as (bytes of packed entries, texts or None). */
static PyObject *take_group(Tally *tally, int group) {
    Table *table = &tally->tables[group];
    PyObject *packed = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(table->count * sizeof(Entry)));
    if (packed == NULL)
        return NULL;
    Entry *out = (Entry *)PyBytes_AS_STRING(packed);
    PyObject *texts = GROUP_STRING[group] >= 0 ? PyList_New((Py_ssize_t)table->count) : Py_None;
    if (texts == NULL) {
        Py_DECREF(packed);
        return NULL;
    }
    if (texts == Py_None)
        Py_INCREF(texts);
    size_t k = 0;
    for (size_t i = 0; i <= table->mask; i++) {
        const Entry *entry = &table->slots[i];
        if (!entry->used)
            continue;
        out[k] = *entry;
        if (texts != Py_None) {
            PyObject *text = PyUnicode_DecodeUTF8(tally->arena + entry->text, entry->length, "replace");
            if (text == NULL) {
                Py_DECREF(packed);
                Py_DECREF(texts);
                return NULL;
            }
            PyList_SET_ITEM(texts, (Py_ssize_t)k, text);
        }
        k++;
    }
    return Py_BuildValue("(NN)", packed, texts);
}

PyDoc_STRVAR(take_doc,
             "take() -> tuple\n\n"
             "Every grouping's entries, in the order paths, referrers, clients, agents, hours, status, "
             "users, vhosts, methods, sections, section errors, days: each (packed entries, texts), texts "
             "None for the groupings keyed by a number. The tables are emptied.");

static PyObject *tally_take(PyObject *self, PyObject *unused) {
    (void)unused;
    Tally *tally = (Tally *)self;
    PyObject *groups = PyTuple_New(N_GROUPS);
    if (groups == NULL)
        return NULL;
    for (int g = 0; g < N_GROUPS; g++) {
        PyObject *taken = take_group(tally, g);
        if (taken == NULL) {
            Py_DECREF(groups);
            return NULL;
        }
        PyTuple_SET_ITEM(groups, g, taken);
    }
    if (!tally_reset(tally)) {
        Py_DECREF(groups);
        return PyErr_NoMemory();
    }
    return groups;
}

static PyObject *tally_entries(PyObject *self, PyObject *unused) {
    (void)unused;
    Tally *tally = (Tally *)self;
    size_t most = 0;
    for (int g = 0; g < N_GROUPS; g++)
        if (tally->tables[g].count > most)
            most = tally->tables[g].count;
    return PyLong_FromSize_t(most);
}

static PyObject *tally_text_bytes(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(((Tally *)self)->arena_used);
}

static PyMethodDef TALLY_METHODS[] = {
    {"add", tally_add, METH_VARARGS, add_doc},
    {"take", tally_take, METH_NOARGS, take_doc},
    {"entries", tally_entries, METH_NOARGS, "The most keys one grouping holds."},
    {"text_bytes", tally_text_bytes, METH_NOARGS, "Bytes of key text held."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TALLY_TYPE = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loglens.aggregate._tally.Tally",
    .tp_basicsize = sizeof(Tally),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The goaccess panels' groupings of the records counted since the last take().",
    .tp_methods = TALLY_METHODS,
    .tp_init = tally_init,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = tally_dealloc,
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_tally", "The goaccess panels' group-bys, in one pass.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__tally(void) {
    if (PyType_Ready(&TALLY_TYPE) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&MODULE);
    if (module == NULL)
        return NULL;
    Py_INCREF(&TALLY_TYPE);
    if (PyModule_AddObject(module, "Tally", (PyObject *)&TALLY_TYPE) < 0) {
        Py_DECREF(&TALLY_TYPE);
        Py_DECREF(module);
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "ENTRY_BYTES", (long)sizeof(Entry)) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
