"""Two writers: batches written on two database connections at once, committed in file order.

One PostgreSQL backend writing a batch (three tables, ~30 index entries and ~5 foreign-key
checks a row) is the import's bottleneck; two backends writing alternate batches keep both
cores busy (measured: 1.6 to 1.7 times the rows per second; bench/README.md).

Batch k goes to writer k % 2, so a writer takes batch k only after it committed batch k-2:
when batch k looks for stored duplicates, every batch before k-1 is committed and visible,
and batch k-1's rows, not yet committed, are handed over in memory (Slot.previous_keys).
Batch k commits only after batch k-1 has (Slot.wait_previous_commit), so the committed
batches are always the file's first ones, whole, and a job's checkpoint stays true. When
a batch fails, the next one gives up instead of committing (Abandoned), and the import
raises the first batch's error. A batch that holds up the one before it while waiting
for it (LockCycle) rolls back and is written again.
"""

import queue
import threading
from concurrent.futures import Future

from django.db import connection
from django.utils import translation

# Exactly two: batch k learns of batch k-1's uncommitted rows in memory and finds all
# the batches before in the database, which holds only while k-2 is committed first.
WRITERS = 2
# How often a batch waiting for the one before checks that it is not what holds it up.
CYCLE_CHECK_SECONDS = 0.5


class Abandoned(Exception):
    """The batch before this one failed, so this one is not committed."""


class LockCycle(Exception):
    """This batch holds a lock the batch before waits for, while it waits for that batch's commit.

    The database cannot see this deadlock (one side waits in Python), so the later batch
    rolls back and is written again. It takes two batches drawing the same random tracking
    number while both are uncommitted, or a lock nobody foresaw; never a wait for ever.
    """


class Slot:
    """One batch's hand-over to the batch after it: its duplicate keys, then its commit."""

    def __init__(self, previous: "Slot | None"):
        self.previous = previous
        self.keys: dict = {}
        self.failed = False
        self.backend_pid: int | None = None  # of the connection writing it
        self._keys_ready = threading.Event()
        self._done = threading.Event()

    def previous_keys(self) -> dict:
        """The rows the batch before stores (duplicate key -> row number), once it has decided them."""
        if self.previous is None:
            return {}
        self.previous._keys_ready.wait()
        if self.previous.failed:
            raise Abandoned
        return self.previous.keys

    def publish_keys(self, keys: dict) -> None:
        self.keys = keys
        self._keys_ready.set()

    def wait_previous_commit(self, blocks) -> None:
        """Wait for the batch before to commit; blocks(pid) tells whether this transaction holds
        up the backend with that pid (then LockCycle)."""
        if self.previous is None:
            return
        while not self.previous._done.wait(CYCLE_CHECK_SECONDS):
            if self.previous.backend_pid is not None and blocks(self.previous.backend_pid):
                raise LockCycle
        if self.previous.failed:
            raise Abandoned

    def finish(self, *, failed: bool) -> None:
        self.failed = failed
        self._keys_ready.set()
        self._done.set()
        self.previous = None  # no chain of every batch kept alive


class Writers:
    """WRITERS threads, each with its own database connection (Django's are per thread)."""

    def __init__(self):
        language = translation.get_language()
        self._queues = [queue.Queue() for _ in range(WRITERS)]
        self._threads = [
            threading.Thread(target=self._serve, args=(jobs, language), name=f"import-writer-{n}", daemon=True)
            for n, jobs in enumerate(self._queues)
        ]
        self._submitted = 0
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _serve(jobs: queue.Queue, language) -> None:
        try:
            with translation.override(language):
                while (item := jobs.get()) is not None:
                    job, future = item
                    try:
                        future.set_result(job())
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                        future.set_exception(exc)
        finally:
            connection.close()

    def submit(self, job) -> Future:
        """Run job() on the next writer in turn; its result or error comes back through the future."""
        future: Future = Future()
        self._queues[self._submitted % WRITERS].put((job, future))
        self._submitted += 1
        return future

    def close(self) -> None:
        """Let the writers finish what they were given, then stop them and close their connections."""
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join()
