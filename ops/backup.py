"""Backups of the database and the uploaded files, and their restore into an empty install.

A backup is one tar file, backups/dingzhou-YYYYmmdd-HHMMSS.tar, holding:

    manifest.json      what it holds: time, database engine, server version, file count
    database.dump      PostgreSQL: pg_dump's custom format (compressed; pg_restore reads it)
    database.sqlite3   or the SQLite file, copied with SQLite's online backup (safe while in use)
    media/...          every file under MEDIA_ROOT

The restore refuses a database that already holds tables and a MEDIA_ROOT that already holds
files: it rebuilds a lost install, it never merges into a live one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Result:
    path: Path
    engine: str
    media_files: int


def _database() -> dict:
    return connections["default"].settings_dict


def _engine() -> str:
    engine = _database()["ENGINE"]
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine}.")


def _pg_env() -> dict:
    """libpq's variables for pg_dump and pg_restore: the password never goes on a command line."""
    db = _database()
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def _tool_major(tool: str) -> int:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} is not installed: install the PostgreSQL client tools (Debian: postgresql-client).")
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(match.group(1))


def _server_version() -> tuple[int, str]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        number = int(cursor.fetchone()[0])
        cursor.execute("SHOW server_version")
        text = cursor.fetchone()[0]
    return number // 10000, text


def _check_tool(tool: str, server_major: int) -> None:
    # pg_dump refuses a newer server; pg_restore of a newer pg_dump cannot read its archive.
    major = _tool_major(tool)
    if major < server_major:
        raise BackupError(
            f"{tool} is version {major} but the PostgreSQL server is version {server_major}: "
            f"install the client tools of version {server_major} or newer."
        )


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def _media_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() or path.is_symlink())


def backup_create(*, directory: Path | None = None, now: dt.datetime | None = None) -> Result:
    """Write one backup file of the database and MEDIA_ROOT into `directory` (BACKUP_DIR)."""
    engine = _engine()
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    target = directory / f"dingzhou-{now:%Y%m%d-%H%M%S}.tar"
    if target.exists():
        raise BackupError(f"{target} already exists: wait a second and run the backup again.")
    media_root = Path(settings.MEDIA_ROOT)
    manifest = {"format": FORMAT, "created": now.isoformat(), "engine": engine}

    with tempfile.TemporaryDirectory(prefix="dingzhou-backup-") as scratch:
        scratch = Path(scratch)
        if engine == "postgresql":
            server_major, server_text = _server_version()
            _check_tool("pg_dump", server_major)
            dump = scratch / "database.dump"
            _run(["pg_dump", "--format=custom", "--no-password", f"--file={dump}"], _pg_env())
            manifest["server_version"] = server_text
            database_member = ("database.dump", dump)
        else:
            copy = scratch / "database.sqlite3"
            source = sqlite3.connect(str(_database()["NAME"]))
            destination = sqlite3.connect(str(copy))
            try:
                source.backup(destination)
            finally:
                destination.close()
                source.close()
            database_member = ("database.sqlite3", copy)
        files = _media_files(media_root)
        manifest["media_files"] = len(files)
        (scratch / "manifest.json").write_text(json.dumps(manifest, indent=2))

        partial = target.with_suffix(".tar.partial")  # a crash leaves no file that looks complete
        # Readable by the service's user only, whatever the umask: it holds every citizen's name and phone.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as archive:
            archive.add(scratch / "manifest.json", arcname="manifest.json")
            archive.add(database_member[1], arcname=database_member[0])
            for path in files:
                archive.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}", recursive=False)
        partial.rename(target)
    return Result(path=target, engine=engine, media_files=len(files))


def _postgres_tables() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return cursor.fetchone()[0]


def _sqlite_tables(path: Path) -> int:
    if not path.exists():
        return 0
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    finally:
        connection.close()


def backup_restore(*, path: Path, media: bool = True) -> Result:
    """Restore a backup file into the configured, empty database and (unless media=False) an empty MEDIA_ROOT."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    engine = _engine()
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(path) as archive:
        try:
            manifest = json.load(archive.extractfile("manifest.json"))
        except KeyError:
            raise BackupError(f"{path} is not a dingzhou backup: it has no manifest.json.") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path} has backup format {manifest.get('format')}; this version reads {FORMAT}.")
        if manifest["engine"] != engine:
            raise BackupError(
                f"{path} holds a {manifest['engine']} database but DATABASE_URL points at {engine}: "
                "restore into the same kind of database."
            )
        database_name = _database()["NAME"]
        if engine == "postgresql":
            tables = _postgres_tables()
        else:
            tables = _sqlite_tables(Path(database_name))
        if tables:
            raise BackupError(
                f"The database {database_name} already holds tables ({tables}): a restore goes into an empty "
                "database. Create a new one (createdb) or drop and re-create this one, then run the restore again."
            )
        if media and _media_files(media_root):
            raise BackupError(
                f"MEDIA_ROOT ({media_root}) already holds files: empty it, point MEDIA_ROOT at an empty folder, "
                "or restore the database alone (--no-media)."
            )

        with tempfile.TemporaryDirectory(prefix="dingzhou-restore-") as scratch:
            scratch = Path(scratch)
            # The "data" filter refuses absolute paths, "..", devices and links leaving the folder.
            members = [m for m in archive.getmembers() if m.name.startswith("database.")]
            archive.extractall(scratch, members=members, filter="data")
            if engine == "postgresql":
                server_major, _text = _server_version()
                _check_tool("pg_restore", server_major)
                connections["default"].close()  # pg_restore works on its own connection
                _run(
                    ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--no-password",
                     f"--dbname={database_name}", str(scratch / "database.dump")],
                    _pg_env(),
                )  # fmt: skip
            else:
                Path(database_name).parent.mkdir(parents=True, exist_ok=True)
                connections["default"].close()
                shutil.copyfile(scratch / "database.sqlite3", database_name)

        files = 0
        if media:
            media_root.mkdir(parents=True, exist_ok=True)
            media_members = []
            for member in archive.getmembers():
                if member.name.startswith("media/") and member.isfile():
                    member.name = member.name[len("media/") :]
                    media_members.append(member)
            archive.extractall(media_root, members=media_members, filter="data")
            files = len(media_members)
    return Result(path=path, engine=engine, media_files=files)
