"""The session database: SQLite (stdlib), one file in the user's data directory.

Versioned by ``PRAGMA user_version`` with one migration per version, run in a transaction when an
older store is opened. WAL journal, so readers (``tiltwatch sessions``, ``history``) work while a
live session writes. The directory is created readable by the user only (0700), the database file
0600 (SQLite gives its WAL and shared-memory files the database file's permissions). A damaged
database, or one damaged session in it, is reported in one line (``StoreError``); a recording
that has since gone missing only marks its session.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from firmware_interface.errors import TiltwatchError
from fusion.session import SessionAnalysis
from tui.store.headline import Headline, headline

ENV_DATA_DIR = "TILTWATCH_DATA_DIR"
"""Points the store (and nothing else) at another directory; tests always set it."""
DB_NAME = "sessions.sqlite3"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 5.0
"""How long a writer or reader waits for another's transaction before giving up."""


class StoreError(TiltwatchError):
    """The session store cannot be read or written (one line, with what to do)."""


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where the store lives: ``override``, else ``$TILTWATCH_DATA_DIR``, else the user data dir."""
    if override:
        return Path(override)
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR])
    import platformdirs

    return Path(platformdirs.user_data_dir("tiltwatch", appauthor=False))


@dataclass(frozen=True)
class StoredSession:
    id: int
    started_utc: str
    kind: str
    duration_s: float
    recording: str | None
    headline: Headline

    @property
    def started(self) -> datetime:
        """The start in local time."""
        return datetime.fromisoformat(self.started_utc).astimezone()

    @property
    def recording_missing(self) -> bool:
        return self.recording is not None and not Path(self.recording).exists()


def _create_v1(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        recording TEXT UNIQUE,
        started_utc TEXT NOT NULL,
        kind TEXT NOT NULL,
        duration_s REAL NOT NULL,
        analysis TEXT NOT NULL,
        saved_utc TEXT NOT NULL)""")
    db.execute("CREATE INDEX sessions_started ON sessions(started_utc)")


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """The headline figures as columns (listing and history read no JSON) and the tilt series."""
    for name in Headline.columns():
        kind = ("INTEGER NOT NULL DEFAULT 0" if name in _INTEGER_COLUMNS else
                "REAL" if name == "mean_depth_m" else "REAL NOT NULL DEFAULT 0")
        db.execute(f"ALTER TABLE sessions ADD COLUMN {name} {kind}")
    db.execute("""CREATE TABLE series (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        rate_hz REAL NOT NULL,
        deg BLOB NOT NULL)""")
    rows = db.execute("SELECT id, analysis FROM sessions").fetchall()
    for session_id, text in rows:
        try:
            figures = headline(json.loads(text))
        except (ValueError, KeyError, TypeError):
            continue  # a damaged analysis keeps zeros; reading it reports it
        _write_headline(db, session_id, figures)


_INTEGER_COLUMNS = {"anterior_alerts", "posterior_alerts", "standing_breaks", "reps", "sets", "wink_reps",
                    "eligible_reps"}
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _create_v1, 2: _v1_to_v2}


def _write_headline(db: sqlite3.Connection, session_id: int, figures: Headline) -> None:
    names = Headline.columns()
    db.execute(f"UPDATE sessions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
               [getattr(figures, n) for n in names] + [session_id])


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Bring the database to version ``target``, one migration per transaction."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"the session store was written by a newer tiltwatch (schema {version}, this one "
                         f"knows {SCHEMA_VERSION}); upgrade tiltwatch")
    for step in range(version + 1, target + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {step}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)


class SessionStore:
    """The store in ``directory`` (default: ``data_dir()``), created and migrated as needed."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        directory = data_dir(directory)
        self.path = directory / DB_NAME
        try:
            _private_dir(directory)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as error:
            raise StoreError(f"cannot open the session store in {directory} ({error.strerror or error})") from None
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            migrate(self._db)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StoreError(f"the session store {self.path} is damaged ({error}); move it aside and a new "
                             "one is started (the recordings themselves are untouched)") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self, analysis: SessionAnalysis) -> int:
        """Store ``analysis`` (replacing an earlier analysis of the same recording); its id."""
        from tui.reports.json_report import analysis_json

        obj = analysis_json(analysis)
        recording = str(Path(analysis.source.file).resolve()) if analysis.source.file else None
        started = analysis.source.started_utc or _file_time(recording) or _now()
        figures = headline(obj)
        deg = zlib.compress(np.asarray(analysis.tilt.deg, dtype="<f4").tobytes())
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = (self._db.execute("SELECT id FROM sessions WHERE recording = ?", (recording,)).fetchone()
                       if recording else None)
                values = (started, analysis.kind, analysis.duration_s, json.dumps(obj, allow_nan=False), _now())
                if row:
                    session_id = row[0]
                    self._db.execute("UPDATE sessions SET started_utc = ?, kind = ?, duration_s = ?, analysis = ?, "
                                     "saved_utc = ? WHERE id = ?", (*values, session_id))
                else:
                    session_id = self._db.execute(
                        "INSERT INTO sessions (recording, started_utc, kind, duration_s, analysis, saved_utc) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (recording, *values)).lastrowid
                _write_headline(self._db, session_id, figures)
                self._db.execute("INSERT OR REPLACE INTO series (session_id, rate_hz, deg) VALUES (?, ?, ?)",
                                 (session_id, analysis.tilt.rate_hz, deg))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise StoreError(f"cannot save the session in {self.path} ({error})") from None
        return int(session_id)

    def sessions(self, since_utc: str | None = None) -> list[StoredSession]:
        """Every session (from ``since_utc`` on), oldest first; no analysis JSON is read."""
        return self._select(("WHERE started_utc >= ? " if since_utc else "") + "ORDER BY started_utc, id",
                            (since_utc,) if since_utc else ())

    def session(self, session_id: int) -> StoredSession:
        found = [s for s in self._select("WHERE id = ?", (session_id,))]
        if not found:
            raise StoreError(f"no session {session_id} in the store (see 'tiltwatch sessions')")
        return found[0]

    def find_recording(self, path: str | os.PathLike[str]) -> StoredSession | None:
        found = self._select("WHERE recording = ?", (str(Path(path).resolve()),))
        return found[0] if found else None

    def analysis(self, session_id: int) -> dict[str, Any]:
        """The stored ``analyze --json`` object of a session."""
        row = self._db.execute("SELECT analysis FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise StoreError(f"no session {session_id} in the store (see 'tiltwatch sessions')")
        try:
            return json.loads(row[0])
        except ValueError:
            raise StoreError(f"session {session_id}'s stored analysis is damaged; analyse its recording "
                             "again to replace it") from None

    def load(self, session_id: int) -> SessionAnalysis:
        """A stored session as a typed analysis (values as the JSON rounded them), with its series."""
        from tui.reports.json_load import analysis_from_json

        obj = self.analysis(session_id)
        try:
            return analysis_from_json(obj, self.series(session_id))
        except (KeyError, TypeError, ValueError) as error:
            raise StoreError(f"session {session_id}'s stored analysis is incomplete ({error!r})") from None

    def series(self, session_id: int) -> tuple[float, np.ndarray]:
        """The stored tilt series: its rate (Hz) and degrees (NaN where unknown)."""
        row = self._db.execute("SELECT rate_hz, deg FROM series WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            raise StoreError(f"session {session_id} has no stored tilt series")
        try:
            return float(row[0]), np.frombuffer(zlib.decompress(row[1]), dtype="<f4").astype(float)
        except zlib.error:
            raise StoreError(f"session {session_id}'s stored tilt series is damaged") from None

    def _select(self, where: str, params: tuple) -> list[StoredSession]:
        names = Headline.columns()
        try:
            rows = self._db.execute(f"SELECT id, started_utc, kind, duration_s, recording, {', '.join(names)} "
                                    f"FROM sessions {where}", params).fetchall()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"the session store {self.path} is damaged ({error})") from None
        return [StoredSession(r[0], r[1], r[2], r[3], r[4], Headline(*r[5:])) for r in rows]


def new_recording_path(command: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """A new file for a live session's recording, in the store's private ``recordings`` folder,
    named after the local start time (never an existing file)."""
    folder = data_dir(directory) / "recordings"
    _private_dir(folder.parent)
    _private_dir(folder)
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    path = folder / f"{stamp}_{command}.csv"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}_{command}_{n}.csv"
    return path


def save_session(recording_path: str | os.PathLike[str] | None, analysis: SessionAnalysis,
                 directory: str | os.PathLike[str] | None = None) -> int:
    """Store a session's analysis with its recording (the dashboard calls this at session end);
    its id. Raises ``StoreError`` (one line) if the store cannot be written."""
    from dataclasses import replace

    if recording_path is not None:
        analysis = replace(analysis, source=replace(analysis.source, file=str(recording_path)))
    with SessionStore(directory) as store:
        return store.save(analysis)


def save_recording(recording_path: str | os.PathLike[str], settings=None,
                   directory: str | os.PathLike[str] | None = None) -> int:
    """Analyse a finished recording (in passes, bounded memory; minutes for a long day: call it
    off the UI thread) and store it; its id. Raises a one-line ``TiltwatchError``."""
    from tui.analyze_file import analyze_file

    analysis = analyze_file(recording_path, settings)
    return save_session(recording_path, analysis, directory)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _file_time(path: str | None) -> str | None:
    """A generic CSV says nothing of when it was recorded: its modification time stands in."""
    if path is None:
        return None
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc).isoformat(timespec="seconds")
    except OSError:
        return None
