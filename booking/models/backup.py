"""Backing the database up while the app serves, and restoring a backup into an empty one.

SQLite: SQLite's online backup API copies every page in one step, inside one read transaction,
so the copy is the database as of one instant even while bookings keep arriving (in WAL mode
the reader blocks no writer and no writer disturbs the reader). The copy is checked with
``PRAGMA integrity_check``, switched to a self-contained rollback journal, synced, and only
then renamed into place: a backup file that exists is complete.

PostgreSQL: ``pg_dump --format=custom``, which reads one snapshot (a repeatable-read
transaction) and so is consistent while the app writes; ``pg_restore`` puts it back in one
transaction. The client tools must be at least the server's major version. The password, if
any, goes to them in the environment (``PGPASSWORD``), never on a command line.

A restore goes only into a database without tables: putting a backup over live data would
silently mix two histories.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
NAME_PREFIX = "museum-"
BUSY_TIMEOUT_MS = 30_000
PG_TOOL_TIMEOUT = 3600  # seconds; a dump of this app's data takes seconds


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


def backup_file_name(backend: str, now: datetime) -> str:
    """``museum-20260504T090001Z.sqlite3`` (or ``.pgdump``): sorts by time."""
    return f"{NAME_PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIXES[backend]}"


def backup_database(engine: Engine, destination: Path) -> Path:
    """Write a consistent backup of ``engine``'s database to ``destination`` (a new file, or an
    existing directory to put a time-stamped file in). Returns the file written."""
    backend = _backend(engine.url)
    if destination.is_dir():
        destination = destination / backup_file_name(backend, datetime.now(UTC))
    if destination.exists():
        raise BackupError(f"{destination} exists; a backup never overwrites a file.")
    if not destination.parent.is_dir():
        raise BackupError(f"{destination.parent} is not a directory.")
    partial = destination.with_name(f".{destination.name}.partial")
    # Created first, for the owner alone: a backup holds names and phone numbers.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        if backend == "sqlite":
            _backup_sqlite(_sqlite_path(engine.url), partial)
        else:
            _pg_tool("pg_dump", engine.url, "--format=custom", "--no-password",
                     f"--file={partial}")
        _fsync(partial)
        os.replace(partial, destination)
        _fsync(destination.parent)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def prune_backups(directory: Path, backend: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` time-stamped backups in ``directory`` (only files
    named as :func:`backup_file_name` names them). Returns those deleted."""
    ours = sorted(path for path in directory.glob(f"{NAME_PREFIX}*{SUFFIXES[backend]}")
                  if path.is_file())
    doomed = ours[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed


def restore_database(engine: Engine, source: Path) -> None:
    """Restore the backup ``source`` into ``engine``'s database, which must have no tables."""
    backend = _backend(engine.url)
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    with source.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    expected = SQLITE_MAGIC if backend == "sqlite" else PG_DUMP_MAGIC
    if not magic.startswith(expected):
        kind = ("an SQLite backup" if magic.startswith(SQLITE_MAGIC) else
                "a pg_dump custom-format backup" if magic.startswith(PG_DUMP_MAGIC) else
                "not a backup this command wrote")
        raise BackupError(f"{source} is {kind}; the database configured "
                          f"(DATABASE_URL) is {backend}. Restore a backup of the same kind.")
    tables = inspect(engine).get_table_names()
    engine.dispose()
    if tables:
        raise BackupError(f"The database already holds {len(tables)} tables (e.g. "
                          f"{sorted(tables)[0]}); restore only into an empty database "
                          f"(a new file, or a newly created PostgreSQL database).")
    if backend == "sqlite":
        _restore_sqlite(source, _sqlite_path(engine.url))
    else:
        _pg_tool("pg_restore", engine.url, "--no-owner", "--no-privileges",
                 "--exit-on-error", "--single-transaction", "--no-password", str(source))


# --- SQLite ----------------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:") or url.database.startswith("file:"):
        raise BackupError(f"Cannot back up the SQLite database {url.database!r}: "
                          "back up a database in a file.")
    return Path(url.database)


def _backup_sqlite(database: Path, partial: Path) -> None:
    if not database.is_file():
        raise BackupError(f"The database file {database} does not exist.")
    source = sqlite3.connect(database, isolation_level=None)
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        source.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        source.backup(target)  # pages=-1: everything in one step, one snapshot
        # The copy carries the source's WAL flag; a backup is one self-contained file.
        target.execute("PRAGMA journal_mode = DELETE")
        verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"The copy failed its integrity check: {verdict}")
    finally:
        target.close()
        source.close()


def _restore_sqlite(source: Path, database: Path) -> None:
    backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True,
                             isolation_level=None)
    target = sqlite3.connect(database, isolation_level=None)
    try:
        verdict = backup.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"{source} failed its integrity check: {verdict}")
        backup.backup(target)
        target.execute("PRAGMA journal_mode = WAL")  # as the app runs it
    finally:
        target.close()
        backup.close()


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_tool(tool: str, url: URL, *args: str) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install "
                          f"postgresql-client-15, matching the server's major version).")
    # libpq reads the connection from a URI without the password, the password from the
    # environment: neither `ps` nor a log line shows it.
    dbname = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    try:
        finished = subprocess.run([program, f"--dbname={dbname}", *args], env=env,
                                  capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT,
                                  check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} did not finish within {PG_TOOL_TIMEOUT} s.") from None
    if finished.returncode != 0:
        raise BackupError(f"{tool} failed (exit {finished.returncode}): "
                          f"{finished.stderr.strip()[-2000:]}")


# --- files -----------------------------------------------------------------------------------

def _backend(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in SUFFIXES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")
    return backend


def _fsync(path: Path) -> None:
    """Make ``path`` (a file, or a directory's entries) durable before we call it done."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
