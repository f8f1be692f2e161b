"""Django's SQLite backend, except that it creates a new database file readable by its owner only.

SQLite would create the file with the process umask (usually 0644: anyone on the machine could read
the cached deals and the encrypted tokens); its -wal and -shm files copy the database file's mode.
"""

import os

from django.db.backends.sqlite3 import base

PRIVATE_FILE_MODE = 0o600


def create_private(name) -> None:
    """Create the database file 0600 if it does not exist yet; in-memory databases are left alone."""
    name = str(name)
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    # O_EXCL: an existing file is left as it is.
    try:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except OSError:
        pass  # it exists, or its folder does not (SQLite then reports that itself, as before)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        create_private(conn_params["database"])
        return super().get_new_connection(conn_params)
