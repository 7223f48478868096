"""Types of the C line reader (``_clf.c``)."""

def parse(stream: object, shapes: int, /) -> tuple[object, object, bytes]:
    """Read an Arrow string-view stream capsule; return the records' schema and array capsules and the
    row numbers of the lines left unread (native uint32)."""
