"""`make backup` and `make restore` (issue 11 item 6): a backup restored into an EMPTY new
database and media folder holds every row of every table and every uploaded file.

The commands run as `make` runs them: `manage.py backup|restore` in their own process,
configured by DATABASE_URL and MEDIA_ROOT. The records are committed (a transactional test),
so pg_dump, on its own connection, sees them.
"""

import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from .access_matrix_fixtures import build_world


def _url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _env(database_url: str, media_root: Path, backup_dir: Path, path_prefix: str = "") -> dict:
    env = dict(os.environ, DATABASE_URL=database_url, MEDIA_ROOT=str(media_root), BACKUP_DIR=str(backup_dir))
    if path_prefix:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return env


def _manage(*args, database_url: str, media_root: Path, backup_dir: Path, path_prefix: str = ""):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR,
        env=_env(database_url, media_root, backup_dir, path_prefix), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _make(*args, database_url: str, media_root: Path, backup_dir: Path):
    """`make backup` / `make restore FILE=...` as IT types them, with this interpreter (-o: no pip install)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.requirements", f"PY={sys.executable}", *args],
        cwd=settings.BASE_DIR, env=_env(database_url, media_root, backup_dir), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def _psql_env() -> dict:
    db = connection.settings_dict
    env = dict(os.environ, PGHOST=db["HOST"] or "127.0.0.1", PGPORT=str(db["PORT"] or 5432), PGUSER=db["USER"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _contents(name: str) -> tuple[dict, dict]:
    """Every row of every table (sorted) and every sequence's position, read over a new connection."""
    db = connection.settings_dict
    with psycopg2.connect(
        dbname=name, user=db["USER"], password=db.get("PASSWORD") or None, host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    ) as conn, conn.cursor() as cursor:  # fmt: skip
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT * FROM "{table}"')
            tables[table] = sorted((tuple(map(repr, row)) for row in cursor.fetchall()))
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        sequences = dict(cursor.fetchall())
    conn.close()
    return tables, sequences


def _files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def scratch_database():
    """A new, empty database made with createdb, dropped afterwards.

    Named after this run's test database (test_<DATABASE_URL's name>[_gwN]), so engineers and CI
    jobs sharing one server never meet, and a leftover says whose it is."""
    name = f"{connection.settings_dict['NAME'][:40]}_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", name], env=_psql_env(), check=True, capture_output=True)
    yield name
    subprocess.run(
        ["psql", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        env=_psql_env(), check=True, capture_output=True,
    )  # fmt: skip


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_database_holds_every_record(
    require_postgres, cast, departments, township, settings, tmp_path, scratch_database
):
    media, restored_media, backups = tmp_path / "media", tmp_path / "restored-media", tmp_path / "backups"
    settings.MEDIA_ROOT = media
    build_world(cast, departments, township)  # tasks, suggestions, projects, uploaded files...
    source = connection.settings_dict["NAME"]
    tables, sequences = _contents(source)
    assert sum(len(rows) for rows in tables.values()) > 30 and len(_files(media)) >= 4

    made = _make("backup", database_url=_url(source), media_root=media, backup_dir=backups)
    assert made.returncode == 0, made.stderr
    [backup] = list(backups.glob("dingzhou-*.tar"))
    assert str(backup) in made.stdout and backup.stat().st_mode & 0o077 == 0
    with tarfile.open(backup) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        assert {"manifest.json", "database.dump"} <= set(archive.getnames())
    assert manifest["engine"] == "postgresql" and manifest["media_files"] == len(_files(media))

    assert _contents(scratch_database)[0] == {}  # empty before
    done = _make("restore", f"FILE={backup}", database_url=_url(scratch_database), media_root=restored_media,
                 backup_dir=backups)  # fmt: skip
    assert done.returncode == 0, done.stderr
    restored_tables, restored_sequences = _contents(scratch_database)
    assert restored_tables.keys() == tables.keys()
    for table, rows in tables.items():
        assert restored_tables[table] == rows, f"table {table} differs after the restore"
    assert restored_sequences == sequences  # new rows do not collide with restored ids
    assert _files(restored_media) == _files(media)

    # A second restore into the now full database is refused and changes nothing.
    again = _manage("restore", str(backup), database_url=_url(scratch_database), media_root=tmp_path / "empty",
                    backup_dir=backups)  # fmt: skip
    assert again.returncode != 0
    assert "already holds" in again.stderr and "a restore goes into an empty database" in again.stderr
    assert _contents(scratch_database)[0] == tables


def test_make_restore_without_a_file_says_how_to_call_it(tmp_path):
    refused = _make("restore", database_url="sqlite:///" + str(tmp_path / "x.sqlite3"), media_root=tmp_path / "m",
                    backup_dir=tmp_path / "b")  # fmt: skip
    assert refused.returncode != 0 and "usage: make restore FILE=backups/" in refused.stderr
    assert not (tmp_path / "x.sqlite3").exists()


@pytest.mark.services
def test_a_restore_refuses_a_media_folder_that_holds_files(require_postgres, tmp_path, scratch_database):
    backups, media = tmp_path / "backups", tmp_path / "media"
    made = _manage("backup", database_url=_url(scratch_database), media_root=tmp_path / "none", backup_dir=backups)
    assert made.returncode == 0, made.stderr
    [backup] = list(backups.glob("*.tar"))
    media.mkdir()
    (media / "kept.txt").write_text("live file")
    other = f"{scratch_database}_b"
    subprocess.run(["createdb", other], env=_psql_env(), check=True, capture_output=True)
    try:
        refused = _manage("restore", str(backup), database_url=_url(other), media_root=media, backup_dir=backups)
        assert refused.returncode != 0 and "already holds files" in refused.stderr
        assert (media / "kept.txt").read_text() == "live file"
    finally:
        subprocess.run(["dropdb", "--force", other], env=_psql_env(), check=True, capture_output=True)


@pytest.mark.services
def test_an_older_pg_dump_than_the_server_is_refused_clearly(require_postgres, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (fake / "pg_dump").chmod(0o755)
    made = _manage(
        "backup", database_url=_url(connection.settings_dict["NAME"]), media_root=tmp_path / "media",
        backup_dir=tmp_path / "backups", path_prefix=str(fake),
    )  # fmt: skip
    assert made.returncode != 0
    assert "pg_dump is version 9 but the PostgreSQL server is version" in made.stderr
    assert not list((tmp_path / "backups").glob("*.tar"))


def test_sqlite_is_backed_up_by_copying_the_file_and_restored_into_a_new_one(tmp_path):
    import sqlite3

    source, target = tmp_path / "demo.sqlite3", tmp_path / "new" / "restored.sqlite3"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE suggestion (id INTEGER PRIMARY KEY, content TEXT)")
        db.executemany("INSERT INTO suggestion (content) VALUES (?)", [("路灯不亮",), ("暖气不热",)])
    media = tmp_path / "media"
    (media / "evidence").mkdir(parents=True)
    (media / "evidence" / "photo.png").write_bytes(b"\x89PNG")
    made = _manage("backup", database_url=f"sqlite:///{source}", media_root=media, backup_dir=tmp_path / "b")
    assert made.returncode == 0, made.stderr
    [backup] = list((tmp_path / "b").glob("*.tar"))
    # It holds every citizen's name and phone: the service's user alone may read it, whatever the umask.
    assert backup.stat().st_mode & 0o777 == 0o600 and (tmp_path / "b").stat().st_mode & 0o777 == 0o700
    done = _manage("restore", str(backup), database_url=f"sqlite:///{target}", media_root=tmp_path / "m2",
                   backup_dir=tmp_path / "b")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT id, content FROM suggestion ORDER BY id").fetchall() == [(1, "路灯不亮"), (2, "暖气不热")]
    assert (tmp_path / "m2" / "evidence" / "photo.png").read_bytes() == b"\x89PNG"
    # The restored file is a database with tables now: a second restore is refused.
    again = _manage("restore", str(backup), database_url=f"sqlite:///{target}", media_root=tmp_path / "m3",
                    backup_dir=tmp_path / "b")  # fmt: skip
    assert again.returncode != 0 and "already holds tables (1)" in again.stderr
