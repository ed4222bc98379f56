"""Where import records come from: files, folders (recursively) and .tar.gz archives.

Archives are read in memory, member by member, never unpacked to disk. Even so, a member whose
name is absolute or climbs out with "..", that is not a regular file, or that is larger than
`MAX_MEMBER_BYTES` is refused with a reason rather than read, and an archive stops being read
after `MAX_ARCHIVE_BYTES`, so a crafted archive can neither write anywhere nor exhaust memory.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024
RECORD_SUFFIXES = (".xml", ".json", ".jsonl", ".ndjson")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class SourceFile:
    """One file to read records from: on disk, or a member of an archive."""

    label: str  # what the report calls it: a path, or "archive.tar.gz:folder/NCT01234567.xml"
    name: str  # the file's own name, for format detection and the id-in-the-name check
    data: bytes = b""
    problem: str | None = None  # why it was not read


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_record_file(name: str) -> bool:
    base = PurePosixPath(name).name
    return not base.startswith(".") and base.lower().endswith(RECORD_SUFFIXES)


def _walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Every candidate file: each file named, and the record files and archives inside folders
    (hidden ones and other kinds, such as a LICENSE, are passed over)."""
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            yield path
            continue
        for found in sorted(path.rglob("*")):
            if found.is_file() and not any(part.startswith(".") for part in found.relative_to(path).parts):
                if _is_archive(found) or _is_record_file(found.name):
                    yield found


def _unsafe_name(name: str) -> str | None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or (pure.parts and pure.parts[0].endswith(":")):
        return "an absolute path inside the archive"
    if ".." in pure.parts:
        return "a path that climbs out of the archive"
    return None


def _archive_members(path: Path) -> Iterator[SourceFile]:
    total = 0
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                label = f"{path}:{member.name}"
                if member.isdir() or not _is_record_file(member.name):
                    continue
                if (problem := _unsafe_name(member.name)) is not None:
                    yield SourceFile(label, member.name, problem=f"refused: {problem}")
                    continue
                if not member.isfile():
                    yield SourceFile(label, member.name, problem="refused: not a regular file (link or device)")
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    yield SourceFile(label, member.name,
                                     problem=f"refused: larger than {MAX_MEMBER_BYTES // 2**20} MB")
                    continue
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    yield SourceFile(label, member.name, problem="refused: the archive holds too much data; "
                                     "the rest of it was not read")
                    return
                handle = archive.extractfile(member)
                yield SourceFile(label, PurePosixPath(member.name).name, handle.read() if handle else b"")
    except (tarfile.TarError, OSError, EOFError) as error:
        yield SourceFile(str(path), path.name, problem=f"not a readable archive: {error}")


def iter_files(paths: Iterable[Path]) -> Iterator[SourceFile]:
    """Every file to import, in a stable order, with its contents or the reason it was refused."""
    for path in _walk(paths):
        if _is_archive(path):
            yield from _archive_members(path)
            continue
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                yield SourceFile(str(path), path.name, problem=f"refused: larger than {MAX_FILE_BYTES // 2**20} MB")
                continue
            yield SourceFile(str(path), path.name, path.read_bytes())
        except OSError as error:
            yield SourceFile(str(path), path.name, problem=f"cannot be read: {error.strerror or error}")


def count_files(paths: Iterable[Path]) -> int:
    """How many files `iter_files` will yield, without reading them (archives are listed)."""
    count = 0
    for path in _walk(paths):
        if not _is_archive(path):
            count += 1
            continue
        try:
            with tarfile.open(path, "r:*") as archive:
                count += sum(1 for m in archive if not m.isdir() and _is_record_file(m.name))
        except (tarfile.TarError, OSError, EOFError):
            count += 1
    return count
