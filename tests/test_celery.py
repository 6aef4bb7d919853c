"""The Celery wiring: a real worker process runs a job that another process sent.

Once on Redis (CI: marked `services`, Redis DB 15 so other tests' keys are not
touched) and once on the embedded default, kombu's filesystem transport, which is
what `make run` uses on a machine with nothing installed. No mocks: the sender and
the worker are separate processes configured only through dingzhou/settings.py.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import shared_task
from django.conf import settings

from dingzhou.celery import app
from ops.schedule import BEAT_SCHEDULE as OPS_SCHEDULE
from tasks.schedule import BEAT_SCHEDULE

JOB = "tests.test_celery.write_marker"


@shared_task(name=JOB)
def write_marker(path: str, text: str) -> None:
    """A job whose effect another process can see."""
    Path(path).write_text(text)


def _environment(**overrides: str | None) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="dingzhou.settings")
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _start_worker(env: dict[str, str], queue: str, log: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "dingzhou", "worker",
        "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
        f"--queues={queue}", f"--hostname={queue}@%h", f"--include={__name__}",
        "--loglevel=INFO",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)


def _send_from_django(env: dict[str, str], queue: str, path: Path, text: str) -> None:
    """Send the job as the web server would: through the settings-configured app, in its own process."""
    code = (
        "import django; django.setup()\n"
        "from dingzhou.celery import app\n"
        f"app.send_task({JOB!r}, args=[{str(path)!r}, {text!r}], queue={queue!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, check=True, timeout=60)


def _wait_for(path: Path, worker: subprocess.Popen, log: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"the job did not run within {timeout:.0f} s; worker log:\n{log.read_text()}")


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _run_round_trip(env: dict[str, str], tmp_path: Path, pending) -> None:
    """Send, check the message waits in the broker (`pending(queue)`), then let a worker run it."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    marker, log, text = tmp_path / "marker.txt", tmp_path / "worker.log", uuid.uuid4().hex
    # Sent before the worker starts: the broker must keep the message until a worker asks.
    _send_from_django(env, queue, marker, text)
    assert pending(queue) == 1
    worker = _start_worker(env, queue, log)
    try:
        assert _wait_for(marker, worker, log) == text
    finally:
        _stop(worker)
    assert worker.returncode == 0, log.read_text()
    assert pending(queue) == 0


def _with_db(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


@pytest.mark.services
def test_a_worker_on_redis_runs_a_job_sent_from_django(require_redis, tmp_path):
    import redis

    url = _with_db(require_redis, 15)
    client = redis.Redis.from_url(url)
    env = _environment(REDIS_URL=url, CELERY_QUEUE_DIR=None)
    try:
        # kombu keeps a Redis queue as a list named after it.
        _run_round_trip(env, tmp_path, pending=client.llen)
    finally:
        for key in client.scan_iter("_kombu.binding*.test-*"):
            client.delete(key)


def test_a_worker_on_the_embedded_filesystem_queue_runs_a_job_sent_from_django(tmp_path):
    queue_dir = tmp_path / "queue"
    env = _environment(REDIS_URL=None, CELERY_QUEUE_DIR=str(queue_dir))
    # The filesystem transport keeps each message as a file "<time>_<id>.<queue>.msg".
    _run_round_trip(env, tmp_path, pending=lambda queue: len(list(queue_dir.glob(f"*.{queue}.msg"))))


def test_every_beat_entry_names_a_registered_job():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    missing = {name: entry["task"] for name, entry in schedule.items() if entry["task"] not in app.tasks}
    assert not missing, f"beat entries naming no job: {missing}"
    assert schedule == {**BEAT_SCHEDULE, **OPS_SCHEDULE}
