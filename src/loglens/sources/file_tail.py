"""Follow log files as they are written: globs and folders, new files, rotation, truncation, deletion.

:class:`FileFollower` is a source of the runtime: one :meth:`FileFollower.poll` is one pass that
discovers the files the specs name and yields a batch per chunk of lines appended to each; the runtime
folds each batch before it asks for the next. Files are known by identity (device and
inode, checked with a fingerprint of their first bytes), not by name, so:

- rename rotation: the old file, still open, is drained (until idle for ``rotate_wait`` seconds), and
  the new file at the path is read from its start; a rotation is counted for the path's source;
- symlink switch: the link's new target is a new file, the old target is drained;
- copytruncate: a file shorter than what was read, or whose first bytes changed, is read again from 0
  (a truncation); the lines it held beyond the counted offset are recovered from the copy when an
  uncompressed copy with the same first bytes is in the same folder;
- deletion: the open file is drained, then forgotten;
- a file that comes back (link switched back, renamed back) resumes where it was left.

Files present at the first start of a source are read from their end (unless ``from_start``), files
that appear later from their start; a checkpoint restores every known file at its saved offset.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from typing import Any

from loglens.clock import Clock, SystemClock
from loglens.contracts import SourceStatus
from loglens.failures import is_fatal
from loglens.parsing import build_parser
from loglens.pipeline import LinePipeline
from loglens.records import Batch
from loglens.sources.copies import CopyIndex
from loglens.sources.discovery import (
    MIN_MATCH_BYTES,
    FileId,
    Found,
    NotRegularFile,
    SourceSpec,
    discover,
    file_id,
    find_copy,
    find_renamed,
    open_regular,
)
from loglens.sources.file_faults import FileFaults, descriptor_budget, out_of_descriptors
from loglens.sources.file_state import FileState
from loglens.sources.tail_views import FileView, RateMeter
from loglens.sources.tracked import TrackedFile, line_start_before

log = logging.getLogger("loglens.tail")

#: Bytes read from one file in one poll; the rest waits for the next poll (which comes at once).
READ_BUDGET = 16 * 1024 * 1024
#: Forgotten files remembered (to resume them if they come back), oldest dropped first.
RETIRED_CAP = 4096


class FileFollower:
    """A source: the files of some specs, read as they grow.

    Not thread-safe for writers: one thread calls :meth:`poll`, :meth:`state` and :meth:`restore`;
    any thread may call :meth:`status`. A file that fails to open or read is counted under its
    source's errors and retried with backoff; the other files go on. At most ``max_open_files`` files
    are open (default: the open-file limit less a reserve, :mod:`~loglens.sources.file_faults`).
    """

    id = "files"

    def __init__(
        self,
        specs: Iterable[SourceSpec],
        *,
        clock: Clock | None = None,
        from_start: bool = False,
        rotate_wait: float = 5.0,
        max_line_bytes: int = 64 * 1024,
        timezone: str = "UTC",
        read_budget: int = READ_BUDGET,
        max_open_files: int | None = None,
    ) -> None:
        self.specs = list(specs)
        self.clock = clock or SystemClock()
        self.from_start = from_start
        self.rotate_wait = rotate_wait
        self.max_line_bytes = max_line_bytes
        self.timezone = timezone
        self.read_budget = read_budget
        self.backlog = False  # the last poll left more than its budget to read
        self.exhausted = False  # a followed file may always grow
        self.files: dict[FileId, TrackedFile] = {}
        self.lock = threading.Lock()
        self.started_at = self.clock.now()
        self._specs = {spec.key: spec for spec in self.specs}
        self._counts: dict[str, Counter[str]] = {}
        self._restored: dict[FileId, FileState] = {}
        self._retired: OrderedDict[FileId, FileState] = OrderedDict()
        self._known_specs: set[str] = set()
        self._labels: dict[str, dict[str, str]] = {}
        self._path_ids: dict[str, FileId] = {}
        self._read_lines: Counter[str] = Counter()
        self._rates: dict[str, RateMeter] = {}
        self._copies = CopyIndex(self.files)
        # what fails: files by path, folder listings by "listing " + the spec's path
        budget = descriptor_budget() if max_open_files is None else max_open_files
        self.faults = FileFaults(log, self.lock, budget)

    # -- checkpoint -------------------------------------------------------------------------------

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a checkpoint: per-source counters, and the files to resume at the next poll."""
        self._counts = {name: Counter(counts) for name, counts in state.get("counts", {}).items()}
        for row in state.get("files", []):
            saved = FileState.from_row(row)
            (self._restored if saved.live else self._retired)[saved.id] = saved
        self._known_specs = set(state.get("specs", []))

    def state(self) -> dict[str, Any]:
        """Offsets of every file and the per-source counters, as of the last batch handed out."""
        files = {**self._retired, **self._restored}
        with self.lock:
            files.update((fid, tracked.state()) for fid, tracked in self.files.items())
            counts = {name: dict(counts) for name, counts in self._counts.items()}
        return {
            "files": [saved.to_row() for saved in files.values()],
            "counts": counts,
            "specs": sorted(self._known_specs),
        }

    # -- polling ----------------------------------------------------------------------------------

    def poll(self, now: float | None = None) -> Generator[Batch, None, None]:
        """Find files, read what was appended, handle rotation, truncation and deletion.

        Yields a batch per chunk of complete lines; a file's offset counts a batch once it is handed
        out. Afterwards :attr:`backlog` tells whether some file had more than one poll's budget.
        """
        now = self.clock.now() if now is None else now
        unlisted: set[str] = set()
        faults = self.faults

        def failed(spec: SourceSpec, exc: OSError) -> None:
            unlisted.add(spec.key)
            faults.failed(f"listing {spec.path}", spec.label(spec.path), exc, now)

        def irregular(spec: SourceSpec, path: str, st: os.stat_result) -> None:
            faults.not_regular(NotRegularFile(path, st), spec.label(path))

        faults.begin_poll()
        listed = [spec for spec in self.specs if faults.ready(f"listing {spec.path}", now)]
        found = discover(listed, failed, irregular)
        for spec in listed:
            if spec.key not in unlisted and faults.is_failing(f"listing {spec.path}"):
                faults.recovered(f"listing {spec.path}")
        unlisted |= {spec.key for spec in self.specs} - {spec.key for spec in listed}
        at_paths = {hit.path: fid for fid, hit in found.items()}
        self._copies.reset()
        self.backlog = False
        for fid, tracked in list(self.files.items()):
            hit = found.pop(fid, None)
            if hit is not None:
                tracked.path, tracked.real, tracked.matched = hit.path, hit.real, True
            elif tracked.matched and tracked.spec not in unlisted:  # not seen, though its folder was listed
                tracked.matched, tracked.active_at = False, now
            yield from self._read(tracked, now)
            if not tracked.matched and now - tracked.active_at >= self.rotate_wait:
                self._forget(tracked)
        known = self._restored.keys() | self._retired.keys()
        for fid, hit in sorted(found.items(), key=lambda item: item[0] not in known):  # known files first
            if fid not in self.files:  # (a copy may have been claimed by a truncated file just before)
                yield from self._start(fid, hit, now)
        if self._restored:
            yield from self._resolve_restored(now)
        faults.end_poll(len(self.files))
        self._known_specs.update(self._specs)
        self._path_ids = {**{p: f for p, f in self._path_ids.items() if f in self.files}, **at_paths}
        with self.lock:
            for source, total in self._read_lines.items():
                rate = self._rates.setdefault(source, RateMeter())
                if not rate.samples or rate.samples[-1][1] != total:
                    rate.add(now, total)

    def _read(self, tracked: TrackedFile, now: float) -> Iterator[Batch]:
        """Read what was appended to one file; a failure is counted for its source and backed off."""
        if not self.faults.ready(tracked.path, now):
            return
        failing = self.faults.is_failing(tracked.path)
        before = tracked.position
        try:
            if tracked.rewritten():
                yield from self._truncated(tracked)
            for batch in tracked.read(self.read_budget):
                self._read_lines[batch.source] += batch.lines
                yield batch
        except BaseException as exc:
            if is_fatal(exc):
                raise
            self.faults.failed(tracked.path, tracked.source, exc, now)
            return
        if failing:
            self.faults.recovered(tracked.path)
        if tracked.position != before:
            tracked.active_at = now
        self.backlog |= tracked.position < tracked.size

    def _start(self, fid: FileId, hit: Found, now: float) -> Iterator[Batch]:
        """Begin following a file not followed yet, if the descriptor budget allows."""
        faults, label = self.faults, hit.spec.label(hit.path)
        if not faults.ready(hit.path, now):
            return
        with self.lock:
            self._labels.setdefault(label, hit.spec.labels)
        if faults.full(len(self.files)):
            faults.no_descriptor(hit.path, label)
            return
        try:
            fd, st = open_regular(hit.path)
        except NotRegularFile as exc:  # swapped since it was listed
            faults.recovered(hit.path)
            faults.not_regular(exc, label)
            return
        except OSError as exc:
            if out_of_descriptors(exc):
                faults.no_descriptor(hit.path, label)
            else:
                faults.failed(hit.path, label, exc, now)
            return
        if file_id(st) != fid:  # replaced since discovery: the next poll sees the new one
            os.close(fd)
            return
        try:
            offset, source, rewritten = self._start_point(fid, fd, st.st_size, hit)
            tracked = self._track(fd, fid, hit.path, hit.real, source, hit.spec.key, offset, now)
        except BaseException as exc:  # e.g. its parser cannot be built: this file fails, not the poll
            if is_fatal(exc):
                raise
            os.close(fd)
            faults.failed(hit.path, label, exc, now)
            return
        faults.recovered(hit.path)
        previous = self._path_ids.get(hit.path)
        if previous is not None and previous != fid:
            self._count(source, "rotations")
        if rewritten is not None:
            self._count(source, "truncations")
            yield from self._recover(rewritten, now)
        yield from self._read(tracked, now)

    def _start_point(self, fid: FileId, fd: int, size: int, hit: Found) -> tuple[int, str, FileState | None]:
        """Offset and source label of a file not followed yet, and its old state if it was rewritten.

        In order: a file known to the checkpoint (or forgotten) and found unchanged resumes; one found
        rewritten at its place is read from 0 (a truncation); a copy of a followed file starts at its end;
        a small known file found under a rotated name resumes (a rename); anything else is new.
        """
        saved = self._restored.pop(fid, None) or self._retired.pop(fid, None)
        fits = saved is not None and saved.resumable(fd, size)
        if saved is not None and fits and (saved.real == hit.real or saved.fp_length >= MIN_MATCH_BYTES):
            return saved.offset, saved.source, None
        if saved is not None and saved.live and saved.real == hit.real:
            return 0, saved.source, saved
        offset = line_start_before(fd, size) if self._from_end(hit.spec) else 0
        copied = self._copies.source_of(fd, hit.path, size) if offset < size else None
        if copied is not None:  # its lines are counted through the original
            return size, copied, None
        if saved is not None and fits and saved.same_file(hit.path, hit.real):
            return saved.offset, saved.source, None
        return offset, hit.spec.label(hit.path), None

    def _from_end(self, spec: SourceSpec) -> bool:
        return not self.from_start and spec.key not in self._known_specs

    def _track(
        self, fd: int, fid: FileId, path: str, real: str, source: str, spec_key: str, offset: int, now: float
    ) -> TrackedFile:
        if offset < 0:  # only a damaged checkpoint holds one
            end = line_start_before(fd, os.fstat(fd).st_size)
            log.warning("%s: the checkpoint's offset %d is negative; reading on from its end", path, offset)
            offset = end
        spec = self._specs.get(spec_key) or SourceSpec(spec_key)
        parse = (spec.format, spec.pattern, self.timezone)
        tracked = TrackedFile(
            fd,
            fid,
            path,
            real,
            source,
            spec_key,
            offset,
            lambda: LinePipeline(source, build_parser(*parse), self.max_line_bytes),
            now,
        )
        with self.lock:
            self.files[fid] = tracked
            self._labels[source] = spec.labels
        self._retired.pop(fid, None)  # an inode seen before: now this file, whatever was saved of it
        self._restored.pop(fid, None)
        self._copies.add(tracked)
        return tracked

    def _forget(self, tracked: TrackedFile) -> None:
        with self.lock:
            del self.files[tracked.id]
        tracked.close()
        self._retire(tracked.state(retired=True))

    def _retire(self, state: FileState) -> None:
        self._retired[state.id] = state
        self._retired.move_to_end(state.id)
        while len(self._retired) > RETIRED_CAP:
            self._retired.popitem(last=False)

    def _count(self, source: str, what: str) -> None:
        with self.lock:
            self._counts.setdefault(source, Counter())[what] += 1

    # -- rotation and truncation ------------------------------------------------------------------

    def _truncated(self, tracked: TrackedFile) -> Iterator[Batch]:
        """The file shrank or was rewritten: read it from 0, and recover its unread tail from a copy.

        A file cut shorter (``truncate -s``) whose whole fingerprint (its first KiB) is unchanged keeps
        what is left, which was counted: it is read on from its new end.
        """
        old = tracked.state()
        self._count(tracked.source, "truncations")
        fingerprint = tracked.fingerprint
        if tracked.size < tracked.position and fingerprint.complete and fingerprint.matches(tracked.fd):
            log.warning(
                "%s: cut to %d bytes, shorter than the %d read, its first bytes unchanged; reading on from "
                "its end", tracked.path, tracked.size, tracked.position,
            )  # fmt: skip
            tracked.restart_at(min(tracked.offset, tracked.size))
            return
        log.info("%s: truncated at offset %d; reading from the start", tracked.path, old.offset)
        tracked.restart_at(0)
        yield from self._recover(old, self.clock.now())

    def _recover(self, old: FileState, now: float) -> Iterator[Batch]:
        """Read the lines past ``old.offset`` from a copy of the old content (copytruncate), if any."""
        fingerprint = old.fingerprint
        if fingerprint.length < MIN_MATCH_BYTES:
            return
        if self._copies.restart_copy(old):
            return
        found = find_copy([old.path, old.real], fingerprint, old.offset, set(self.files))
        if found is not None:
            path, fd = found
            log.info("%s: reading the rest of %s from its copy %s", old.source, old.path, path)
            copy = self._track(
                fd, file_id(os.fstat(fd)), path, os.path.realpath(path), old.source, old.spec, old.offset, now
            )
            copy.matched = False
            yield from self._read(copy, now)

    def _resolve_restored(self, now: float) -> Iterator[Batch]:
        """Checkpointed files not found by the sources were renamed or deleted while loglens was stopped:
        look for each by identity in its folder and read what it gained since the checkpoint."""
        pending, self._restored = list(self._restored.values()), {}
        for saved in pending:
            if saved.id in self.files:  # its inode is already followed: a new file on a freed inode
                continue
            if self.faults.full(len(self.files)):  # looked for again once a descriptor frees up
                self.faults.no_descriptor(saved.path, saved.source)
                self._restored[saved.id] = saved
                continue
            folders = [os.path.dirname(saved.path) or ".", os.path.dirname(saved.real) or "."]
            found = find_renamed(folders, saved.id, saved.fingerprint)
            if found is not None and not saved.same_file(found[0], os.path.realpath(found[0])):
                os.close(found[1])
                found = None
            if found is None:
                self._retire(replace(saved, state="retired"))
                continue
            path, fd = found
            if saved.state == "following":  # renamed while stopped; a draining file was counted already
                self._count(saved.source, "rotations")
            tracked = self._track(
                fd, saved.id, path, os.path.realpath(path), saved.source, saved.spec, saved.offset, now
            )
            tracked.matched = False
            yield from self._read(tracked, now)

    # -- views --------------------------------------------------------------------------------------

    def status(self) -> list[SourceStatus]:
        """Every source label with its open files, errors, rotations, truncations and read rate."""
        now = self.clock.now()
        with self.lock:
            files: dict[str, list[FileView]] = {}
            for t in self.files.values():
                state = "following" if t.matched else "draining"
                view = FileView(t.path, t.offset, t.size, t.lag, t.lines, state)
                files.setdefault(t.source, []).append(view)
            failing = self.faults.failing()
            names = sorted(set(files) | set(self._counts) | set(self._rates) | self.faults.sources())
            return [
                SourceStatus(
                    name=name,
                    lines=self._read_lines[name],
                    errors=self.faults.errors(name),
                    lag_bytes=sum(f.lag_bytes for f in files.get(name, [])),
                    healthy=name not in failing,
                    labels=dict(self._labels.get(name, {})),
                    files=files.get(name, []),
                    rotations=self._counts.get(name, Counter())["rotations"],
                    truncations=self._counts.get(name, Counter())["truncations"],
                    lines_per_second=self._rates[name].rate(now, self.started_at)
                    if name in self._rates
                    else 0.0,
                    last_error=failing.get(name),
                )
                for name in names
            ]

    def committed(self, state: dict[str, Any]) -> None:
        """Nothing to let go: the files are the writers'."""

    def labels_of(self, name: str) -> dict[str, str]:
        """The extra labels of the source label ``name``: its spec's."""
        with self.lock:
            return dict(self._labels.get(name, {}))

    def close(self) -> None:
        """Close every open file."""
        with self.lock:
            for tracked in self.files.values():
                tracked.close()
            self.files.clear()
