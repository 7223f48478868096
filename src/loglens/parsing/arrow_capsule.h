/* The Arrow stream a PyCapsule holds (the Arrow PyCapsule interface), for loglens's C modules. */
#ifndef LOGLENS_ARROW_CAPSULE_H
#define LOGLENS_ARROW_CAPSULE_H

#include <Python.h>

#include "arrow_c.h"

/* The stream of `capsule`; a Python error and NULL when it holds none or was consumed already. */
static inline struct ArrowArrayStream *capsule_stream(PyObject *capsule) {
    struct ArrowArrayStream *stream = PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (stream != NULL && stream->release == NULL) {
        PyErr_SetString(PyExc_ValueError, "the stream was already consumed");
        return NULL;
    }
    return stream;
}

#endif
