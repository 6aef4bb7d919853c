"""Reading and checking rows in a thread of their own, a few batches ahead of the writer.

Checking a row is pure Python; writing a batch is mostly waiting for PostgreSQL (a
separate process), during which the waiting thread lets the other one run. The queue
holds at most QUEUE_CHUNKS checked batches, so memory stays a few batches whatever
the file's size. The thread touches no database and no Django state other than the
translation, which it takes over from the caller so its messages are in the same
language. An error while reading (a broken file) reaches the caller as itself.
"""

import contextlib
import dataclasses
import datetime as dt
import queue
import threading

from django.utils import timezone, translation

from .readers import Table
from .validate import RowChecker

QUEUE_CHUNKS = 2
_END = object()


@dataclasses.dataclass
class Chunk:
    rows: list  # (row number, cells, Row or None, problems)
    now: dt.datetime  # when they were checked: the batch's "now" when written
    last: bool  # no rows follow


class _Stop(Exception):
    pass


@contextlib.contextmanager
def checked_chunks(table: Table, checker: RowChecker, *, batch_size: int, split_after: int = 0):
    """Chunks of at most batch_size checked rows, in file order; none spans row split_after and the next."""
    handoff: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()
    language = translation.get_language()

    def put(item) -> None:
        while True:
            if stop.is_set():
                raise _Stop
            try:
                handoff.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            with translation.override(language):
                pending, now = [], timezone.now()
                checker.set_now(now)
                check = checker.check
                for number, cells in table.rows():
                    if pending and (len(pending) >= batch_size or number > split_after >= pending[-1][0]):
                        put(Chunk(pending, now, False))
                        pending, now = [], timezone.now()
                        checker.set_now(now)
                    pending.append((number, cells, *check(number, cells)))
                if pending:
                    put(Chunk(pending, now, True))
                put(_END)
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
            with contextlib.suppress(_Stop):
                put(exc)

    def chunks():
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    worker = threading.Thread(target=produce, name="import-reader", daemon=True)
    worker.start()
    try:
        yield chunks()
    finally:
        stop.set()
        worker.join()
