"""Short leases that keep several reviewers of a served app off the same item at the same time.

A lease says "this reviewer has this item on screen"; it expires on its own (a closed tab frees its
item after ``seconds``). Leases are coordination state of the served app, not labels: they live next to
the accounts (``auth/leases.db``, mode 0600) and never in the project's append-only event store.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from workbench.auth._accounts import AUTH_DIR, Accounts
from workbench.auth._errors import AuthError

__all__ = ["LEASES_FILE", "ReviewLeases"]

LEASES_FILE = "leases.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    task TEXT NOT NULL,
    example_id TEXT NOT NULL,
    username TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (task, example_id)
);
"""


class ReviewLeases:
    """Who has which item of a review task (``"adjudication"``, ``"relabel"``) on screen.

    Parameters
    ----------
    accounts : Accounts
        The project's accounts (the leases are kept in the same ``auth/`` folder).
    seconds : float, default 600
        How long a lease lasts unless renewed or released.

    Examples
    --------
    >>> leases = ReviewLeases(accounts, seconds=300)               # doctest: +SKIP
    >>> leases.claim("adjudication", "c-1", "dr_lee")               # doctest: +SKIP
    'dr_lee'
    >>> leases.claim("adjudication", "c-1", "dr_kim")               # doctest: +SKIP
    'dr_lee'
    """

    def __init__(self, accounts: Accounts, *, seconds: float = 600.0) -> None:
        if not isinstance(accounts, Accounts):
            raise AuthError(f"The 'accounts' parameter of ReviewLeases must be an Accounts. Got "
                            f"{type(accounts).__name__} instead.")
        if (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds)
                or seconds <= 0):
            raise AuthError(f"The 'seconds' parameter of ReviewLeases must be a positive number. Got {seconds!r}.")
        self.accounts = accounts
        self.seconds = float(seconds)

    @property
    def database(self) -> Path:
        """The SQLite file holding the leases."""
        return self.accounts.path / AUTH_DIR / LEASES_FILE

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self.database
        if not db.exists():
            self.accounts._make_directory()
            os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
        con = sqlite3.connect(db, timeout=10.0, isolation_level=None)
        try:
            con.executescript(_SCHEMA)
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def claim(self, task: str, example_id: str, username: str) -> str:
        """Lease an item to ``username`` unless someone else holds it; return who holds it now.

        Claiming an item one already holds renews the lease.
        """
        now = time.time()
        with self._write() as con:
            con.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))
            row = con.execute("SELECT username FROM leases WHERE task = ? AND example_id = ?",
                              (task, example_id)).fetchone()
            if row is not None and str(row[0]) != username:
                return str(row[0])
            con.execute("INSERT OR REPLACE INTO leases (task, example_id, username, expires_at) VALUES (?, ?, ?, ?)",
                        (task, example_id, username, now + self.seconds))
        return username

    def release(self, task: str, example_id: str, username: str) -> None:
        """End ``username``'s lease on an item (nothing happens if someone else holds it)."""
        with self._write() as con:
            con.execute("DELETE FROM leases WHERE task = ? AND example_id = ? AND username = ?",
                        (task, example_id, username))

    def release_all(self, task: str, username: str) -> None:
        """End every lease ``username`` holds on a task (a session closed)."""
        with self._write() as con:
            con.execute("DELETE FROM leases WHERE task = ? AND username = ?", (task, username))

    def holders(self, task: str, example_ids: Sequence[str] | None = None) -> dict[str, str]:
        """Item id -> who holds an unexpired lease on it (for ``example_ids``, or every leased item)."""
        if not self.database.exists():
            return {}
        con = sqlite3.connect(self.database, timeout=10.0)
        try:
            rows = con.execute("SELECT example_id, username FROM leases WHERE task = ? AND expires_at > ?",
                               (task, time.time())).fetchall()
        except sqlite3.OperationalError:  # made but never written
            rows = []
        finally:
            con.close()
        out = {str(e): str(u) for e, u in rows}
        if example_ids is not None:
            wanted = set(example_ids)
            out = {e: u for e, u in out.items() if e in wanted}
        return out
