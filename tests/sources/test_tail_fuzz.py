"""Fuzz the follower: random bytes, edge timestamps and file-system operations, through a real Runtime.

Bytes: NUL, invalid UTF-8, CR, lines over ``parse.max_line_bytes`` with or without their newline, and
lines whose times sit at the edges of every field (year 0 and 10000, month 13, 31 February, hour 24,
second 61, zones past +14:00, epochs past 2^63) in ISO, common-log and JSON shapes, read with format
``auto`` so that every parser meets them. Operations: append, rename away, truncate (to 0 or shorter),
swap for a FIFO and back, chmod, restart; on names that are not UTF-8 too.

After every poll: polling raised nothing (no source, read or fold error besides ``not_regular`` for
the FIFOs), the exposition (totals and runtime collectors) renders and parses, and each file label
counts exactly the complete lines written to its regular files. The machine polls before it renames,
truncates or swaps a file (loglens must have read what it destroys, see docs/run.md), and right after
a truncation, before the next append; each new file starts with a line of its own, so that a file
created on the inode of a deleted one never starts with the same bytes (its fingerprint).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from loglens.exposition.runtime import RuntimeCollector
from loglens.exposition.totals import TotalsCollector
from loglens.sources.discovery import FINGERPRINT_BYTES
from sources.tail_helpers import ROTATE_WAIT, Harness

NAMES = (b"a.log", b"b.log", b"caf\xe9.log", b"\xff\xfe-x.log")
MAX_LINE = 64 * 1024

# Years up to the edges of what loglens reads (years 1 and 9999 once in UTC: see BEYOND), and past them.
YEARS = ("1969", "1970", "2038", "9998", "10000")
MONTHS = ("00", "01", "02", "12", "13")
DAYS = ("00", "01", "28", "29", "30", "31", "32")
HOURS, SIXTIES = ("00", "23", "24"), ("00", "59", "60", "61")
ZONES = ("Z", "+00:00", "+14:00", "-12:00", "+23:59", "-99:99", "+2400", "")
MON = ("Jan", "Feb", "Dec", "Foo")
EPOCHS = ("0", "-1", "2147483648", "9223372036854775807", "9223372036854775808", "1e20")


@st.composite
def edge_line(draw: st.DrawFn) -> bytes:
    """A line whose time sits at the edge of a range, in one of the shapes loglens parses."""
    year, month, day, hour, minute, second = (
        draw(st.sampled_from(choices)) for choices in (YEARS, MONTHS, DAYS, HOURS, SIXTIES, SIXTIES)
    )
    shape = draw(st.integers(0, 2))
    if shape == 0:
        zone = draw(st.sampled_from(ZONES))
        text = f"{year}-{month}-{day}T{hour}:{minute}:{second}.999999{zone} ERROR edge"
    elif shape == 1:
        zone = draw(st.sampled_from(("+0000", "-0100", "+1400", "-9999")))
        when = f"{day}/{draw(st.sampled_from(MON))}/{year}:{hour}:{minute}:{second} {zone}"
        text = f'10.0.0.1 - - [{when}] "GET /a HTTP/1.1" 200 {draw(st.sampled_from(EPOCHS))}'
    else:
        text = f'{{"time": {draw(st.sampled_from(EPOCHS))}, "level": "info", "status": 200}}'
    return text.encode() + b"\n"


CHUNKS = st.one_of(
    st.binary(max_size=300),
    st.lists(edge_line(), min_size=1, max_size=5).map(b"".join),
    st.tuples(st.integers(MAX_LINE - 10, MAX_LINE + 5000), st.booleans()).map(
        lambda n_end: b"y" * n_end[0] + (b"\n" if n_end[1] else b"")
    ),
)


@dataclass
class File:
    """What the model knows of one name: the regular file there now (or a FIFO), and lines counted."""

    kind: str | None = None  # "file", "fifo" or None
    data: bytearray = field(default_factory=bytearray)
    written: int = 0  # complete lines that loglens must count under this name's label


class FuzzMachine(RuleBasedStateMachine):
    """Four names, a glob, format auto, a frozen clock and explicit polls."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="loglens-fuzz-"))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.serial = 0
        self.model = {name: File() for name in NAMES}
        self.tail = Harness(self.logs, "*.log", from_start=True, format="auto")

    def teardown(self) -> None:
        try:
            self._poll()
        finally:
            self.tail.close()
            shutil.rmtree(self.root, ignore_errors=True)

    def _path(self, name: bytes) -> bytes:
        return os.fsencode(self.logs) + b"/" + name

    def _poll(self) -> None:
        self.tail.poll()
        runner = self.tail.runtime.sources[0]
        assert not runner.errors and runner.backoff.healthy, runner.errors
        assert not self.tail.runtime._fold_errors, self.tail.runtime._fold_errors
        for status in self.tail.follower.status():
            assert set(status.errors) <= {"not_regular"}, (status.name, status.errors, status.last_error)
        for name, known in self.model.items():
            label = os.fsdecode(name)
            assert self.tail.lines(label) == known.written, (name, self.tail.lines(label), known.written)

    def _create(self, name: bytes) -> None:
        """A new regular file at ``name``, starting with a line no other file starts with."""
        self.serial += 1
        header = b"new file %d\n" % self.serial
        with open(self._path(name), "wb") as handle:
            handle.write(header)
        self.model[name] = File("file", bytearray(header), self.model[name].written + 1)

    def _remove(self, name: bytes) -> None:
        os.unlink(self._path(name))
        self.model[name] = File(None, bytearray(), self.model[name].written)

    @rule(name=st.sampled_from(NAMES), chunk=CHUNKS)
    def append(self, name: bytes, chunk: bytes) -> None:
        if self.model[name].kind is None:
            self._create(name)
        known = self.model[name]
        if known.kind == "file":
            with open(self._path(name), "ab") as handle:
                handle.write(chunk)
            known.data += chunk
            known.written += chunk.count(b"\n")

    @rule()
    def poll(self) -> None:
        self._poll()

    @rule(name=st.sampled_from(NAMES))
    def rename_away(self, name: bytes) -> None:
        """Rename rotation to a name the glob does not match (and no rotated name of a followed one)."""
        if self.model[name].kind != "file":
            return
        self._poll()
        self.serial += 1
        os.rename(self._path(name), os.fsencode(self.logs) + b"/zz-%d" % self.serial)
        self.model[name] = File(None, bytearray(), self.model[name].written)

    @rule(name=st.sampled_from(NAMES), keep=st.floats(0, 1, exclude_max=True))
    def truncate(self, name: bytes, keep: float) -> None:
        known = self.model[name]
        if known.kind != "file":
            return
        self._poll()
        size = int(len(known.data) * keep)
        cut = len(known.data) >= FINGERPRINT_BYTES and size >= FINGERPRINT_BYTES
        if not cut:  # read again from 0: what is left is counted again (docs/run.md)
            known.written += known.data[:size].count(b"\n")
        os.truncate(self._path(name), size)
        del known.data[size:]
        self._poll()

    @rule(name=st.sampled_from(NAMES))
    def swap_for_fifo(self, name: bytes) -> None:
        """A FIFO where the file was, or a new file where the FIFO was."""
        kind = self.model[name].kind
        if kind is not None:
            self._poll()
            self._remove(name)
        if kind == "file":
            os.mkfifo(self._path(name))
            self.model[name].kind = "fifo"
        else:
            self._create(name)

    @rule(name=st.sampled_from(NAMES), mode=st.sampled_from([0, 0o200, 0o444, 0o644]))
    def chmod(self, name: bytes, mode: int) -> None:
        if self.model[name].kind is not None:
            os.chmod(self._path(name), mode)

    @rule()
    def rotate_wait_passes(self) -> None:
        self.tail.clock.advance(ROTATE_WAIT)

    @rule()
    def restart(self) -> None:
        self.tail.restart()

    @invariant()
    def exposition_parses(self) -> None:
        registry = CollectorRegistry()
        registry.register(TotalsCollector(self.tail.totals))
        registry.register(RuntimeCollector(self.tail.runtime.query))
        families = list(text_string_to_metric_families(generate_latest(registry).decode("utf-8")))
        lines = [s.value for f in families for s in f.samples if s.name == "loglens_lines_total"]
        assert sum(lines) == sum(counters.lines for counters in self.tail.totals.sources.values())


#: Times past the edges loglens reads (years 1 and 9999 once in UTC): each is a ``bad_timestamp``; polars
#: overflowed on them in parsing/ and aggregate/, and the batch was lost as a fold error.
BEYOND = (
    "0000-01-01T00:00:00Z ERROR edge",
    "0001-01-01T00:00:00+14:00 ERROR edge",
    "9999-12-31T23:59:59.999999-12:00 ERROR edge",
    '10.0.0.1 - - [01/Jan/0001:00:30:00 +0100] "GET /a HTTP/1.1" 200 5',
    '10.0.0.1 - - [31/Dec/9999:23:59:59 -0100] "GET /a HTTP/1.1" 200 5',
    '{"time": 9000000000000000, "level": "info"}',
)


def test_times_beyond_years_1_and_9999_are_counted(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for n, text in enumerate(BEYOND):
        (logs / f"{n}.log").write_text(text + "\n", encoding="utf-8")
    tail = Harness(logs, "*.log", from_start=True, format="auto")
    tail.poll()
    assert not tail.runtime._fold_errors, tail.runtime._fold_errors
    assert [tail.lines(f"{n}.log") for n in range(len(BEYOND))] == [1] * len(BEYOND)
    tail.close()


FuzzMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_fuzz_the_follower = FuzzMachine.TestCase
