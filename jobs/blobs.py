"""Files that travel with a job through the queue's database, checked at both ends.

A blob is one file: a safe name, its bytes, their size and SHA-256. The writer records size and
checksum; every reader checks both (and the size limit of its kind) before using the bytes, so
a truncated or tampered row is refused, never trained on or published. A file is written from
bytes or streamed from disk (:data:`Source`), in parts of :data:`PART_BYTES` (``job_blob_parts``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import JobQueueError
from .records import BASE, CHECKPOINT, CORPUS, RESULT

MB = 1_000_000
# The most bytes one file of each kind may have (uploads are 5 MB by default; models a few MB).
MAX_BYTES = {CORPUS: 100 * MB, BASE: 500 * MB, CHECKPOINT: 1000 * MB, RESULT: 500 * MB}
PART_BYTES = 1 << 20  # a blob is written and read in parts of this size: memory holds one
Source = bytes | Path  # what is stored: bytes in memory (small files), or a file streamed
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class BlobError(JobQueueError):
    """A blob is missing, too big, or does not match its checksum."""


@dataclass(frozen=True)
class Blob:
    kind: str
    name: str
    data: bytes
    sha256: str
    size: int

    def verified(self) -> bytes:
        """The bytes, once name, size and checksum are checked."""
        check_name(self.kind, self.name)
        check_size(self.kind, self.name, self.size)
        if len(self.data) != self.size:
            raise BlobError(f"{self.kind} file {self.name} is truncated")
        if sha256(self.data) != self.sha256:
            raise BlobError(f"{self.kind} file {self.name} does not match its checksum")
        return self.data


def size_of(source: Source) -> int:
    return source.stat().st_size if isinstance(source, Path) else len(source)


def parts_of(source: Source, size: int) -> Iterator[bytes]:
    """The bytes of ``source`` in parts of ``size`` (a file read one part at a time)."""
    if not isinstance(source, Path):
        view = memoryview(source)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])
        return
    with source.open("rb") as fh:
        while part := fh.read(size):
            yield part


def check_files(kind: str, files: Mapping[str, Source]) -> None:
    """Refuse, before anything is written, a file of ``files`` with an unsafe name or too big."""
    for name, source in files.items():
        check_name(kind, name)
        check_size(kind, name, size_of(source))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_name(kind: str, name: str) -> None:
    if kind not in MAX_BYTES:
        raise BlobError(f"unknown kind of file: {kind!r}")
    if not _NAME_RE.match(name) or ".." in name:
        raise BlobError(f"refusing a {kind} file with an unsafe name")


def check_size(kind: str, name: str, size: int) -> None:
    if size > MAX_BYTES[kind]:
        raise BlobError(f"{kind} file {name} is too big ({size / MB:.1f} MB)")


def expect_names(
    kind: str, files: Mapping[str, object], required: set[str], allowed: set[str]
) -> None:
    """Refuse a set of files with a missing or an unexpected name."""
    missing, extra = required - set(files), set(files) - allowed
    if missing:
        raise BlobError(f"{kind} files are incomplete: {', '.join(sorted(missing))} missing")
    if extra:
        raise BlobError(f"unexpected {kind} files: {', '.join(sorted(extra))}")


async def receive(
    read: Callable[[int], Awaitable[bytes]],
    out: BinaryIO,
    *,
    size: int,
    expected: str,
    what: str,
    before_slice: Callable[[], None] = lambda: None,
) -> None:
    """Write a stored file of ``size`` bytes into ``out`` one slice at a time, checked:
    ``read(offset)`` returns the slice that starts at ``offset`` (empty past the end), so memory
    holds one slice; ``before_slice()`` runs before each read (it may raise to stop). A file
    that ends early or does not match ``expected`` (its SHA-256) raises :class:`BlobError`
    naming ``what``."""
    digest, done = hashlib.sha256(), 0
    while True:
        before_slice()
        part = await read(done)
        digest.update(part)
        out.write(part)
        done += len(part)
        if not part or done >= size:
            break
    if done != size:
        raise BlobError(f"{what} is truncated")
    if digest.hexdigest() != expected:
        raise BlobError(f"{what} does not match its checksum")
