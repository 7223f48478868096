"""Types of the panels' tally (``_tally.c``)."""

ENTRY_BYTES: int

class Tally:
    def __init__(self, scatter: int) -> None: ...
    def add(self, stream: object, part: int, batch: int, /) -> None:
        """Count the records of an Arrow stream capsule of the tally's columns, typed as records are."""
    def take(self) -> tuple[tuple[bytes, list[str] | None], ...]:
        """Every grouping's packed entries and texts; the tables are emptied."""
    def entries(self) -> int:
        """The most keys one grouping holds."""
    def text_bytes(self) -> int:
        """Bytes of key text held."""
