"""Fetch the next pages in a background thread while the caller diffs and stages the current one.

So the network (and Pipedrive's own time to answer) overlaps our work. The thread only makes
HTTP requests and parses records: it never touches the database (Django connections belong to
one thread, and tests run inside one transaction), and callbacks that do (lease renewal, progress)
run in the caller's thread. The queue holds at most AHEAD pages, so memory stays a few pages.
"""

import threading
from collections.abc import Callable, Iterable, Iterator
from queue import Full, Queue

from integrations.providers.base import PageCallback, PageInfo

AHEAD = 2
_DONE = object()


class _Stopped(Exception):
    """The caller stopped reading: end the thread quietly."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def pages_ahead(fetch: Callable[[PageCallback], Iterable]) -> Iterator[tuple[list, PageInfo | None]]:
    """(records, info) per page of `fetch(on_page)`, in order; an error in the thread is raised here.

    info is None for records that arrive after their page was reported (v1 users come in one list
    reported before it is iterated).
    """
    queue: Queue = Queue(maxsize=AHEAD)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return
            except Full:
                continue
        raise _Stopped

    def produce() -> None:
        records: list = []

        def page_done(info: PageInfo) -> None:
            nonlocal records
            put((records, info))
            records = []

        try:
            for record in fetch(page_done):
                records.append(record)
            if records:
                put((records, None))
            put(_DONE)
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            try:
                put(_Failed(error))
            except _Stopped:
                pass

    thread = threading.Thread(target=produce, name="pipedrive-prefetch", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        # Also on the caller's failure (lease lost, a bug): the thread ends after its current request.
        stop.set()
        thread.join()
