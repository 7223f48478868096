"""Types of the C line reader (``_clf.c``)."""

def parse(stream: object, shapes: int, /) -> tuple[object, object, bytes]:
    """Read an Arrow string-view stream capsule; return the records' schema and array capsules (with
    each record's row in ``line``) and the row numbers of the lines left unread (native uint32)."""
