"""The CSV files of a phone export, wherever they are: a zip, a folder (holding CSVs or zips), or
one CSV; each opened as text on demand, one chunk of lines at a time."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator

from firmware_interface.errors import RecordingFormatError

PARSE_LINES = 16_384
"""Lines handed to the number parser at once: bounds memory, keeps parsing vectorised."""
MAX_HEADER_CHARS = 4096


@dataclass(frozen=True, eq=False)
class Member:
    """One CSV of an export."""

    export: str
    """The zip or folder it belongs to: one export, one run of the app."""
    name: str
    """Its path inside the export."""
    opener: Callable[[], IO[bytes]]

    @property
    def label(self) -> str:
        return f"{self.export}:{self.name}" if self.name else self.export

    @property
    def file_name(self) -> str:
        """Its own name, without the folders it is in (kept in a recording's metadata)."""
        return Path(self.name or self.export).name

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    def lines(self) -> Iterator[tuple[int, list[str]]]:
        """(number of the first line, lines without their ends) in chunks of ``PARSE_LINES``."""
        with self.opener() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline=None)
            number, chunk = 1, []
            try:
                for line in text:
                    chunk.append(line.rstrip("\n"))
                    if len(chunk) == PARSE_LINES:
                        yield number, chunk
                        number, chunk = number + len(chunk), []
            except UnicodeDecodeError:
                raise RecordingFormatError(self.label, "is not UTF-8 text; expected a CSV file") from None
            if chunk:
                yield number, chunk

    def head(self, count: int = 2) -> list[str]:
        """The first ``count`` non-blank lines ([] if the file is not text)."""
        found: list[str] = []
        try:
            with self.opener() as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline=None)
                while len(found) < count:
                    line = text.readline(MAX_HEADER_CHARS)
                    if not line:
                        break
                    if line.strip():
                        found.append(line.strip())
        except (UnicodeDecodeError, OSError, zipfile.BadZipFile):
            return []
        return found


def export_members(path: Path) -> list[Member]:
    """The ``.csv`` files of the zip, folder (and the zips in it) or CSV file at ``path``."""
    if path.is_dir():
        members: list[Member] = []
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            if zipfile.is_zipfile(file):
                members.extend(_zip_members(file))
            elif file.suffix.lower() == ".csv":
                members.append(Member(str(file.parent), file.name, _file_opener(file)))
        return members
    if zipfile.is_zipfile(path):
        return _zip_members(path)
    return [Member(str(path), "", _file_opener(path))]


def is_container(path: Path) -> bool:
    """A folder or a zip: never a tiltwatch recording or generic CSV."""
    return path.is_dir() or (path.is_file() and zipfile.is_zipfile(path))


def _file_opener(file: Path) -> Callable[[], IO[bytes]]:
    return lambda: open(file, "rb")


def _zip_members(file: Path) -> list[Member]:
    try:
        with zipfile.ZipFile(file) as archive:
            names = [info.filename for info in archive.infolist()
                     if not info.is_dir() and info.filename.lower().endswith(".csv")
                     and not Path(info.filename).name.startswith("._")]  # macOS resource forks
    except (zipfile.BadZipFile, OSError) as error:
        raise RecordingFormatError(str(file), f"cannot read the zip archive ({error})") from None

    def opener(name: str) -> Callable[[], IO[bytes]]:
        def open_member() -> IO[bytes]:
            # The member keeps the archive's file open after the archive object is closed.
            with zipfile.ZipFile(file) as archive:
                return archive.open(name)
        return open_member

    return [Member(str(file), name, opener(name)) for name in sorted(names)]
