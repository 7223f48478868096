/* Common, combined and iso access-log lines to Arrow columns, one pass over each line. This file
 * holds the module: output memory, the Arrow export and the Python entry point; clf_line.c reads a line.
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
 * COMBINED_DURATION) matches and whose time is valid and zoned (CLF, or ISO for iso); every other
 * line is handed back, by index, to those regexes. tests/parsing/test_clf_split.py checks on
 * generated and mutated lines that both paths give the same records.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_capsule.h"
#include "clf_line.h"

/* ---- the output columns ---- */

static const char *const COLUMN_NAMES[N_COLUMNS] = {
    "ts", "client", "user", "method", "path", "section", "protocol",
    "status", "bytes", "referer", "agent", "duration", "line",
};
static const char *const COLUMN_FORMATS[N_COLUMNS] = {
    "tsu:UTC", "vu", "vu", "vu", "vu", "vu", "vu", "s", "l", "vu", "vu", "g", "I",
};
/* Bytes per value of the fixed-width columns; 0 for string views (16 bytes each). */
static const int COLUMN_WIDTH[N_COLUMNS] = {8, 0, 0, 0, 0, 0, 0, 2, 8, 0, 0, 8, 4};
static const int COLUMN_NULLABLE[N_COLUMNS] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0};

#define VIEW_BYTES 16

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
        f.shape = clf_parse_line(line, len, shapes, &f);
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
        ((uint32_t *)out->values[COL_LINE])[records] = (uint32_t)row;
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
             "schema and struct array capsules of the records (column ``line``: each record's row), and "
             "the row numbers of the lines left unread as native uint32 bytes.");

static PyObject *parse(PyObject *self, PyObject *args) {
    PyObject *capsule;
    int shapes;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi", &capsule, &shapes))
        return NULL;
    struct ArrowArrayStream *stream = capsule_stream(capsule);
    if (stream == NULL)
        return NULL;
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

PyMODINIT_FUNC PyInit__clf(void) {
    if (!clf_line_init())
        return PyErr_NoMemory();
    return PyModule_Create(&MODULE);
}
