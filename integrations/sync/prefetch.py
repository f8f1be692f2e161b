"""Fetch pages in background threads while the caller diffs and stages the ones already here.

So the network (and Pipedrive's own time to answer) overlaps our work, and several listings (one
per entity, several for a large one) are fetched at once. The threads only make HTTP requests and
parse records: they never touch the database (Django connections belong to one thread, SQLite has
one writer, and tests run inside one transaction), and callbacks that do (lease renewal, progress)
run in the caller's thread. At most AHEAD pages per listing wait in the queue, so memory stays a
few pages per listing.
"""

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from queue import Full, Queue

from integrations.providers.base import PageCallback, PageInfo

AHEAD = 2
_DONE = object()

Fetch = Callable[[PageCallback], Iterable]


class _Stopped(Exception):
    """The caller stopped reading: end the thread quietly."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def pages_ahead(fetch: Fetch) -> Iterator[tuple[list, PageInfo | None]]:
    """(records, info) per page of `fetch(on_page)`, in order; an error in the thread is raised here."""
    with closing(chains_ahead([fetch])) as pages:
        for _, records, info in pages:
            yield records, info


def chains_ahead(
    fetches: Sequence[Fetch], *, interrupt: Callable[[], None] | None = None
) -> Iterator[tuple[int, list, PageInfo | None]]:
    """(index of the fetch, records, info) per page of every `fetch(on_page)`, each fetch in its own
    thread: one fetch's pages in order, the fetches' pages interleaved as they arrive.

    info is None for records that arrive after their page was reported (v1 users come in one list
    reported before it is iterated). The first error in any thread is raised here, and then (or
    when the caller stops reading early) every thread stops: `interrupt` wakes the ones waiting to
    make a request, the others end after their current one.
    """
    queue: Queue = Queue(maxsize=AHEAD * len(fetches))
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return
            except Full:
                continue
        raise _Stopped

    def produce(index: int, fetch: Fetch) -> None:
        records: list = []

        def page_done(info: PageInfo) -> None:
            nonlocal records
            put((index, records, info))
            records = []

        try:
            for record in fetch(page_done):
                records.append(record)
            if records:
                put((index, records, None))
            put(_DONE)
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            try:
                put(_Failed(error))
            except _Stopped:
                pass

    threads = [
        threading.Thread(target=produce, args=(index, fetch), name=f"pipedrive-prefetch-{index}", daemon=True)
        for index, fetch in enumerate(fetches)
    ]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        while finished < len(threads):
            item = queue.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield item
    finally:
        # Also on the caller's failure (lease lost, a bug): no thread starts another request.
        stop.set()
        if finished < len(threads) and interrupt is not None:
            interrupt()
        for thread in threads:
            thread.join()
