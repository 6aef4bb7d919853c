"""SeenRows: what a dry run remembers of every row it passed, in ~32 bytes a row.

A real import finds an earlier batch's rows in the database; a dry run writes nothing, so
it must remember each row's duplicate key itself. A dict of hash -> row number costs ~100
bytes a row (two int objects and a slot): 100 MB more at a million rows. Two flat arrays
with open addressing hold the same in 16 bytes a slot, at most half the slots used.
"""

from array import array

_FIRST_CAPACITY = 1 << 16


class SeenRows:
    """hash(duplicate key) -> the number of the first row that had it."""

    def __init__(self):
        self._allocate(_FIRST_CAPACITY)

    def _allocate(self, capacity: int) -> None:
        self._mask = capacity - 1
        self._hashes = array("q", bytes(8 * capacity))
        self._rows = array("q", bytes(8 * capacity))  # 0: an empty slot (rows count from 1)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def get(self, key_hash: int) -> int | None:
        """The row first seen with this hash, or None."""
        hashes, rows, mask = self._hashes, self._rows, self._mask
        slot = key_hash & mask
        while rows[slot]:
            if hashes[slot] == key_hash:
                return rows[slot]
            slot = (slot + 1) & mask
        return None

    def add(self, key_hash: int, row: int) -> None:
        """Remember row under this hash unless an earlier row has it already."""
        if row < 1:
            raise ValueError("row numbers start at 1")
        hashes, rows, mask = self._hashes, self._rows, self._mask
        slot = key_hash & mask
        while rows[slot]:
            if hashes[slot] == key_hash:
                return
            slot = (slot + 1) & mask
        hashes[slot], rows[slot] = key_hash, row
        self._count += 1
        if 2 * self._count > len(rows):
            self._grow()

    def _grow(self) -> None:
        hashes, rows = self._hashes, self._rows
        self._allocate(2 * len(rows))
        for key_hash, row in zip(hashes, rows):
            if row:
                self.add(key_hash, row)
