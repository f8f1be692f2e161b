"""A spool on disk for the changes a sync has downloaded but not yet written.

Pages are pickled one after another into an anonymous temporary file, so a sync of 100,000
deals holds a few pages in memory at a time and writes nothing to the cache until the download
is complete. Rows are pickled already encoded for the database (upsert.py), so reading them
back in the write transaction costs little.
"""

import pickle
import tempfile
from collections.abc import Iterator
from typing import Any


class Spool:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.items = 0

    def add(self, item: Any) -> None:
        # One write per item: pickle.dump writes frame by frame, and each write lets the prefetch
        # thread take the GIL for a switch interval.
        self._file.write(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
        self.items += 1

    def __iter__(self) -> Iterator[Any]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.items):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
