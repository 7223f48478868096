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

#include "../parsing/arrow_capsule.h"
#include "tally_counts.h"

/* The Python object: the tables. */
typedef struct {
    PyObject_HEAD
    Counts counts;
} Tally;

static int tally_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"scatter", NULL};
    unsigned long long scatter;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "K", names, &scatter))
        return -1;
    Counts *counts = &((Tally *)self)->counts;
    counts->scatter = (uint64_t)scatter | 1;
    if (!counts_reset(counts)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void tally_dealloc(PyObject *self) {
    counts_clear(&((Tally *)self)->counts);
    Py_TYPE(self)->tp_free(self);
}

PyDoc_STRVAR(add_doc,
             "add(stream, part, batch)\n\n"
             "Count the records of an Arrow stream capsule of structs (a polars DataFrame of ts, status, "
             "bytes, duration, path, referer, client, agent, user, vhost, method and section, typed as "
             "loglens's records are); records without a status are not access records and are skipped. "
             "``part`` keys the records' rows, ``batch`` their agents'.");

/* Count every chunk of `stream`; a Python error and 0 otherwise. */
static int add_stream(Counts *counts, struct ArrowArrayStream *stream, uint32_t part, uint32_t batch) {
    struct ArrowSchema schema;
    if (stream->get_schema(stream, &schema) != 0) {
        PyErr_SetString(PyExc_ValueError, "could not read the records' schema");
        return 0;
    }
    int ok = counts_readable(&schema);
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
        if (counts_well_formed(&chunk)) {
            Py_BEGIN_ALLOW_THREADS;
            failed = counts_chunk(counts, &chunk, part, batch);
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
    int added = add_stream(&((Tally *)self)->counts, stream, part, batch);
    stream->release(stream);
    if (!added)
        return NULL;
    Py_RETURN_NONE;
}

/* One grouping's entries as (bytes of packed entries, texts or None). */
static PyObject *take_group(Counts *counts, int group) {
    Table *table = &counts->tables[group];
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
            PyObject *text = PyUnicode_DecodeUTF8(counts->arena + entry->text, entry->length, "replace");
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
    Counts *counts = &((Tally *)self)->counts;
    PyObject *groups = PyTuple_New(N_GROUPS);
    if (groups == NULL)
        return NULL;
    for (int g = 0; g < N_GROUPS; g++) {
        PyObject *taken = take_group(counts, g);
        if (taken == NULL) {
            Py_DECREF(groups);
            return NULL;
        }
        PyTuple_SET_ITEM(groups, g, taken);
    }
    if (!counts_reset(counts)) {
        Py_DECREF(groups);
        return PyErr_NoMemory();
    }
    return groups;
}

static PyObject *tally_entries(PyObject *self, PyObject *unused) {
    (void)unused;
    Counts *counts = &((Tally *)self)->counts;
    size_t most = 0;
    for (int g = 0; g < N_GROUPS; g++)
        if (counts->tables[g].count > most)
            most = counts->tables[g].count;
    return PyLong_FromSize_t(most);
}

static PyObject *tally_text_bytes(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(((Tally *)self)->counts.arena_used);
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
