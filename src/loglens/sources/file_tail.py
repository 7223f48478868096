"""Follow log files as they are written: globs and folders, new files, rotation, truncation, deletion.

One :meth:`FileFollower.poll` is one synchronous pass: discover the files the sources name, read what
was appended to each, and fold the batches into the totals. Files are known by identity (device and
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
from collections.abc import Callable, Iterable
from dataclasses import replace

from loglens.aggregate.totals import Totals
from loglens.clock import Clock, SystemClock
from loglens.parsing import build_parser
from loglens.pipeline import LinePipeline
from loglens.records import Batch
from loglens.sources.discovery import (
    MIN_MATCH_BYTES,
    FileId,
    Fingerprint,
    Found,
    SourceSpec,
    discover,
    file_id,
    find_copy,
    find_renamed,
    is_rotated_name,
)
from loglens.sources.tail_views import FileView, RateMeter, SourceView
from loglens.sources.tracked import TrackedFile, line_start_before, same_bytes_before
from loglens.state.checkpoint import FileState, Snapshot

log = logging.getLogger("loglens.tail")

#: Bytes read from one file in one poll; the rest waits for the next poll (which comes at once).
READ_BUDGET = 16 * 1024 * 1024
#: Forgotten files remembered (to resume them if they come back), oldest dropped first.
RETIRED_CAP = 4096


class FileFollower:
    """Follows the files of some sources and folds their lines into :class:`Totals`.

    Not thread-safe for writers: one thread calls :meth:`poll`, :meth:`snapshot` and :meth:`restore`;
    any thread may call :meth:`sources`.
    """

    def __init__(
        self,
        specs: Iterable[SourceSpec],
        totals: Totals,
        *,
        clock: Clock | None = None,
        from_start: bool = False,
        rotate_wait: float = 5.0,
        max_line_bytes: int = 64 * 1024,
        timezone: str = "UTC",
        listeners: Iterable[Callable[[Batch], None]] = (),
        read_budget: int = READ_BUDGET,
    ) -> None:
        self.specs = list(specs)
        self.totals = totals
        self.clock = clock or SystemClock()
        self.from_start = from_start
        self.rotate_wait = rotate_wait
        self.max_line_bytes = max_line_bytes
        self.timezone = timezone
        self.listeners = list(listeners)
        self.read_budget = read_budget
        self.files: dict[FileId, TrackedFile] = {}
        self.lock = threading.Lock()
        self.started_at = self.clock.now()
        self._specs = {spec.key: spec for spec in self.specs}
        self._counts: dict[str, Counter[str]] = {}
        self._restored: dict[FileId, FileState] = {}
        self._retired: OrderedDict[FileId, FileState] = OrderedDict()
        self._known_specs: set[str] = set()
        self._path_ids: dict[str, FileId] = {}
        self._read_lines: Counter[str] = Counter()
        self._rates: dict[str, RateMeter] = {}
        self._fp_index: dict[int, dict[str, list[TrackedFile]]] | None = None
        self._unreadable: set[str] = set()

    # -- checkpoint -------------------------------------------------------------------------------

    def restore(self, snapshot: Snapshot) -> None:
        """Take up a checkpoint: totals, counters, and the files to resume at the next poll."""
        self.totals.load_state(snapshot.totals, self.clock.now())
        self._counts = {name: Counter(counts) for name, counts in snapshot.sources.items()}
        for state in snapshot.files:
            (self._restored if state.live else self._retired)[state.id] = state
        self._known_specs = set(snapshot.specs)

    def snapshot(self) -> Snapshot:
        """Offsets and totals as of now, consistent with each other (call between polls)."""
        files = {**self._retired, **self._restored}
        with self.lock:
            files.update((fid, tracked.state()) for fid, tracked in self.files.items())
        return Snapshot(
            files=list(files.values()),
            totals=self.totals.to_state(),
            sources={name: dict(counts) for name, counts in self._counts.items()},
            specs=sorted(self._known_specs),
            saved_at=self.clock.now(),
        )

    # -- polling ----------------------------------------------------------------------------------

    def poll(self) -> bool:
        """Find files, read what was appended, handle rotation, truncation and deletion.

        Returns:
            True when some file has more to read than one poll's budget: poll again at once.
        """
        now = self.clock.now()
        found = discover(self.specs)
        at_paths = {hit.path: fid for fid, hit in found.items()}
        self._fp_index = None
        more = False
        for fid, tracked in list(self.files.items()):
            hit = found.pop(fid, None)
            if hit is not None:
                tracked.path, tracked.real, tracked.matched = hit.path, hit.real, True
            elif tracked.matched:
                tracked.matched, tracked.active_at = False, now
            more |= self._read(tracked, now)
            if not tracked.matched and now - tracked.active_at >= self.rotate_wait:
                self._forget(tracked)
        known = self._restored.keys() | self._retired.keys()
        for fid, hit in sorted(found.items(), key=lambda item: item[0] not in known):  # known files first
            if fid not in self.files:  # (a copy may have been claimed by a truncated file just before)
                more |= self._start(fid, hit, now)
        if self._restored:
            self._resolve_restored(now)
        self._known_specs.update(self._specs)
        self._path_ids = {**{p: f for p, f in self._path_ids.items() if f in self.files}, **at_paths}
        with self.lock:
            for source, total in self._read_lines.items():
                rate = self._rates.setdefault(source, RateMeter())
                if not rate.samples or rate.samples[-1][1] != total:
                    rate.add(now, total)
        return more

    def _read(self, tracked: TrackedFile, now: float) -> bool:
        """Read what was appended to one file; True when its budget ran out."""
        before = tracked.position
        try:
            if tracked.rewritten():
                self._truncated(tracked)
            for batch in tracked.read(self.read_budget):
                self._fold(batch, now)
        except OSError as exc:
            log.warning("%s: read error: %s", tracked.path, exc.strerror)
            return False
        if tracked.position != before:
            tracked.active_at = now
        return tracked.position < tracked.size

    def _fold(self, batch: Batch, now: float) -> None:
        self.totals.update(batch, now)
        self._read_lines[batch.source] += batch.lines
        for listener in self.listeners:
            listener(batch)

    def _start(self, fid: FileId, hit: Found, now: float) -> bool:
        """Begin following a file not followed yet; True when its budget ran out."""
        try:
            fd = os.open(hit.path, os.O_RDONLY)
        except OSError as exc:
            if hit.path not in self._unreadable:  # said once; tried again at every poll
                self._unreadable.add(hit.path)
                log.warning("%s: cannot open: %s", hit.path, exc.strerror)
            return False
        self._unreadable.discard(hit.path)
        st = os.fstat(fd)
        size = st.st_size
        if file_id(st) != fid:  # replaced since discovery: the next poll sees the new one
            os.close(fd)
            return False
        offset, source, rewritten = self._start_point(fid, fd, size, hit)
        previous = self._path_ids.get(hit.path)
        if previous is not None and previous != fid:
            self._count(source, "rotations")
        tracked = self._track(fd, fid, hit.path, hit.real, source, hit.spec.key, offset, now)
        if rewritten is not None:
            self._count(source, "truncations")
            self._recover(rewritten, now)
        return self._read(tracked, now)

    def _start_point(self, fid: FileId, fd: int, size: int, hit: Found) -> tuple[int, str, FileState | None]:
        """Offset and source label of a file not followed yet, and its old state if it was rewritten.

        In order: a file known to the checkpoint (or forgotten) and found unchanged resumes; one found
        rewritten at its place is read from 0 (a truncation); a copy of a followed file starts at its end;
        a small known file found under a rotated name resumes (a rename); anything else is new.
        """
        saved = self._restored.pop(fid, None) or self._retired.pop(fid, None)
        fits = saved is not None and size >= saved.offset and saved.fingerprint.matches(fd)
        if saved is not None and fits and (saved.real == hit.real or saved.fp_length >= MIN_MATCH_BYTES):
            return saved.offset, saved.source, None
        if saved is not None and saved.live and saved.real == hit.real:
            return 0, saved.source, saved
        offset = line_start_before(fd, size) if self._from_end(hit.spec) else 0
        copied = self._copy_source(fd, hit.path, size) if offset < size else None
        if copied is not None:  # its lines are counted through the original
            return size, copied, None
        if saved is not None and fits and _same_file(saved, hit.path, hit.real):
            return saved.offset, saved.source, None
        return offset, hit.spec.label(hit.path), None

    def _from_end(self, spec: SourceSpec) -> bool:
        return not self.from_start and spec.key not in self._known_specs

    def _track(
        self, fd: int, fid: FileId, path: str, real: str, source: str, spec_key: str, offset: int, now: float
    ) -> TrackedFile:
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
        with self.totals.lock:
            self.totals.source(source)
            self.totals.labels[source] = dict(spec.labels)
        with self.lock:
            self.files[fid] = tracked
        self._retired.pop(fid, None)  # an inode seen before: now this file, whatever was saved of it
        self._restored.pop(fid, None)
        if self._fp_index is not None:
            self._index(tracked)
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

    def _truncated(self, tracked: TrackedFile) -> None:
        """The file shrank or was rewritten: read it from 0, and recover its unread tail from a copy."""
        old = tracked.state()
        log.info("%s: truncated at offset %d; reading from the start", tracked.path, old.offset)
        self._count(tracked.source, "truncations")
        tracked.restart_at(0)
        self._recover(old, self.clock.now())

    def _recover(self, old: FileState, now: float) -> None:
        """Read the lines past ``old.offset`` from a copy of the old content (copytruncate), if any."""
        fingerprint = old.fingerprint
        if fingerprint.length < MIN_MATCH_BYTES:
            return
        for other in list(self.files.values()):
            untouched = other.offset == other.start_offset and not other.pipeline.pending_bytes
            behind = old.offset < other.offset and other.id != old.id
            named = is_rotated_name(os.path.basename(other.path), os.path.basename(old.path))
            if untouched and behind and named and fingerprint.matches(other.fd):
                other.restart_at(old.offset)  # a copy found earlier and started at its end
                return
        found = find_copy([old.path, old.real], fingerprint, old.offset, set(self.files))
        if found is not None:
            path, fd = found
            log.info("%s: reading the rest of %s from its copy %s", old.source, old.path, path)
            copy = self._track(
                fd, file_id(os.fstat(fd)), path, os.path.realpath(path), old.source, old.spec, old.offset, now
            )
            copy.matched = False
            self._read(copy, now)

    def _copy_source(self, fd: int, path: str, size: int) -> str | None:
        """Source of a followed file this new file is a copy of, or None.

        A copy has a rotated name of the original (:func:`is_rotated_name`) and the same first and last bytes.
        """
        if self._fp_index is None:
            self._fp_index = {}
            for tracked in self.files.values():
                self._index(tracked)
        if not self._fp_index:
            return None
        head = os.pread(fd, min(size, max(self._fp_index)), 0)
        for length, digests in self._fp_index.items():
            if len(head) < length:
                continue
            for original in digests.get(Fingerprint.of(head[:length]).digest, []):
                named = is_rotated_name(os.path.basename(path), os.path.basename(original.path))
                if named and original.id in self.files and same_bytes_before(fd, original.fd, size):
                    return original.source
        return None

    def _index(self, tracked: TrackedFile) -> None:
        fingerprint = tracked.fingerprint
        if self._fp_index is not None and fingerprint.length >= MIN_MATCH_BYTES:
            self._fp_index.setdefault(fingerprint.length, {}).setdefault(fingerprint.digest, []).append(
                tracked
            )

    def _resolve_restored(self, now: float) -> None:
        """Checkpointed files not found by the sources were renamed or deleted while loglens was stopped:
        look for each by identity in its folder and read what it gained since the checkpoint."""
        pending, self._restored = list(self._restored.values()), {}
        for saved in pending:
            if saved.id in self.files:  # its inode is already followed: a new file on a freed inode
                continue
            folders = [os.path.dirname(saved.path) or ".", os.path.dirname(saved.real) or "."]
            found = find_renamed(folders, saved.id, saved.fingerprint)
            if found is not None and not _same_file(saved, found[0], os.path.realpath(found[0])):
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
            self._read(tracked, now)

    # -- views --------------------------------------------------------------------------------------

    def sources(self) -> list[SourceView]:
        """Every source with its open files, rotations, truncations and read rate."""
        now = self.clock.now()
        with self.lock:
            files: dict[str, list[FileView]] = {}
            for t in self.files.values():
                state = "following" if t.matched else "draining"
                view = FileView(t.path, t.offset, t.size, t.lag, t.lines, state)
                files.setdefault(t.source, []).append(view)
            names = sorted(set(files) | set(self._counts) | set(self._rates))
            return [
                SourceView(
                    name,
                    files.get(name, []),
                    self._counts.get(name, Counter())["rotations"],
                    self._counts.get(name, Counter())["truncations"],
                    self._rates[name].rate(now, self.started_at) if name in self._rates else 0.0,
                )
                for name in names
            ]

    def close(self) -> None:
        """Close every open file."""
        with self.lock:
            for tracked in self.files.values():
                tracked.close()
            self.files.clear()


def _same_file(saved: FileState, path: str, real: str) -> bool:
    """Whether a checkpointed file found again by its inode is that file, not a new one on a freed inode.

    Trusted when found at the same place, when its fingerprint is long enough to identify it, or when
    the new name is a rotated name of the old one (a rename).
    """
    if saved.real == real or saved.fp_length >= MIN_MATCH_BYTES:
        return True
    return is_rotated_name(os.path.basename(path), os.path.basename(saved.path)) or is_rotated_name(
        os.path.basename(real), os.path.basename(saved.real)
    )
