"""The accounts of one project: users, roles, salted scrypt password hashes, login rate limits, sessions.

Everything lives in the project directory under ``auth/`` (mode 0700), never in the project's event
store and never in plain text:

``auth/accounts.db``
    SQLite (mode 0600): users (name, role, scrypt hash, times), recent failed logins, live sessions
    (only a SHA-256 of each session id is kept).
``auth/cookie_secret``
    The project's random secret (mode 0600) that signs session cookies, made on first use.
``auth/.gitignore``
    ``*``: the folder is never committed with the project.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.auth._errors import AccountError, AuthError, RateLimitedError
from workbench.auth._hashing import burn_time, hash_password, needs_rehash, verify_password
from workbench.auth._roles import ROLES
from workbench.exceptions import ProjectNotFoundError
from workbench.store import utc_now

__all__ = [
    "ACCOUNTS_FILE",
    "AUTH_DIR",
    "DEFAULT_SESSION_MINUTES",
    "MAX_SESSION_MINUTES",
    "MIN_PASSWORD_LENGTH",
    "SECRET_FILE",
    "Accounts",
    "Session",
]

#: The folder of the project directory holding accounts and the cookie secret.
AUTH_DIR = "auth"
ACCOUNTS_FILE = "accounts.db"
SECRET_FILE = "cookie_secret"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # scrypt is slow on purpose: no megabyte passwords
DEFAULT_SESSION_MINUTES = 8 * 60
MAX_SESSION_MINUTES = 30 * 24 * 60
_MARKER = "workbench.json"
_USERNAME = re.compile(r"[^\W_][\w.@-]{0,63}")
_TOKEN_VERSION = "v1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login TEXT
);
CREATE TABLE IF NOT EXISTS login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL COLLATE NOCASE,
    client TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at);
CREATE TABLE IF NOT EXISTS sessions (
    sid_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    client TEXT
);
"""


@dataclass(frozen=True)
class Session:
    """A logged-in user, as read back from a valid session cookie.

    Attributes
    ----------
    username : str
        The account's name as stored (the identity recorded with every decision).
    role : str
        The account's role now (a role change applies to open sessions at once).
    expires_at : float
        When the session ends (Unix time, seconds).
    """

    username: str
    role: str
    expires_at: float

    @property
    def seconds_left(self) -> float:
        """Seconds until the session expires (0 when it has)."""
        return max(0.0, self.expires_at - time.time())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


class Accounts:
    """The user accounts of one project, with roles, login rate limits and sessions.

    Parameters
    ----------
    project_path : path-like
        The project directory (it must hold a workbench project). Accounts are kept in its
        ``auth/`` folder, which is made on the first write; reading an account-less project writes nothing.
    max_failures : int, default 5
        Failed logins of one user within ``failure_window`` after which further attempts are refused.
    max_client_failures : int, default 10
        Failed logins from one client (IP address) within ``failure_window``, whatever the user names.
    failure_window : float, default 300
        Seconds a failed login counts against the user and the client.

    Examples
    --------
    >>> import tempfile, workbench as wb
    >>> from workbench.auth import Accounts
    >>> project = wb.Project.create(tempfile.mkdtemp() + "/p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    >>> acc = Accounts(project.path)
    >>> acc.enabled
    False
    >>> acc.add("dr_lee", "reviewer", "a long passphrase")
    >>> acc.verify("dr_lee", "a long passphrase"), acc.verify("dr_lee", "guess")
    ('reviewer', None)
    >>> acc.list()[["username", "role"]].values.tolist()
    [['dr_lee', 'reviewer']]
    """

    def __init__(
        self,
        project_path: str | os.PathLike[str],
        *,
        max_failures: int = 5,
        max_client_failures: int = 10,
        failure_window: float = 300.0,
    ) -> None:
        if not isinstance(project_path, (str, os.PathLike)):
            raise AccountError(
                f"The 'project_path' parameter of Accounts must be a path to a project directory. Got "
                f"{type(project_path).__name__} {project_path!r} instead."
            )
        path = Path(project_path)
        if not (path / _MARKER).is_file():
            raise ProjectNotFoundError(
                f"There is no workbench project at {str(path)!r} (no {_MARKER}): accounts belong to a project. "
                f"Create it first (workbench init / wb.Project.create) or give the project's own directory."
            )
        for name, value in (("max_failures", max_failures), ("max_client_failures", max_client_failures)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AccountError(f"The '{name}' parameter of Accounts must be a positive integer. Got {value!r}.")
        if (isinstance(failure_window, bool) or not isinstance(failure_window, (int, float))
                or not math.isfinite(failure_window) or failure_window <= 0):
            raise AccountError(
                f"The 'failure_window' parameter of Accounts must be a positive number of seconds. Got "
                f"{failure_window!r}."
            )
        self.path = path
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
        self.failure_window = float(failure_window)
        self._secret: str | None = None

    def __repr__(self) -> str:
        return f"Accounts({str(self.path)!r}, users={len(self.list())})"

    # ------------------------------------------------------------------ files
    @property
    def directory(self) -> Path:
        """The project's ``auth/`` folder."""
        return self.path / AUTH_DIR

    @property
    def database(self) -> Path:
        """The SQLite file holding the accounts."""
        return self.directory / ACCOUNTS_FILE

    def _make_directory(self) -> None:
        d = self.directory
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)
        ignore = d / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# accounts and the cookie secret never go into version control\n*\n",
                              encoding="utf-8")

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection | None]:
        """A connection to the accounts database; None when reading a project that has none yet."""
        db = self.database
        if not db.exists():
            if not write:
                yield None
                return
            self._make_directory()
            os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(db, 0o600)
        con = sqlite3.connect(db, timeout=10.0, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 10000")
            if write:
                con.executescript(_SCHEMA)
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            else:
                yield con
        except sqlite3.DatabaseError as exc:
            raise AuthError(
                f"The accounts file {str(db)!r} cannot be used ({exc}). Restore it from a backup, or delete the "
                f"project's {AUTH_DIR}/ folder and add the users again."
            ) from exc
        finally:
            con.close()

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._connect(write=False) as con:
            if con is None:
                return []
            try:
                return con.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):  # a database file made but never written
                    return []
                raise

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _check_username(username: object, func: str) -> str:
        if not isinstance(username, str) or not username.strip():
            raise AccountError(
                f"The 'username' parameter of Accounts.{func} must be a non-empty string. Got {username!r} instead."
            )
        if not _USERNAME.fullmatch(username):
            raise AccountError(
                f"The 'username' parameter of Accounts.{func} must be 1 to 64 letters, digits or '_', '.', '@', '-' "
                f"and start with a letter or digit. Got {username!r} instead; e.g. 'dr_lee' or 'ann.smith'."
            )
        return username

    @staticmethod
    def _check_role(role: object, func: str) -> str:
        if not isinstance(role, str) or role not in ROLES:
            raise AccountError(
                f"The 'role' parameter of Accounts.{func} must be one of {list(ROLES)!r}. Got {role!r} instead."
            )
        return role

    @staticmethod
    def _check_password(password: object, username: str, func: str) -> str:
        if not isinstance(password, str):
            raise AccountError(
                f"The 'password' parameter of Accounts.{func} must be a string. Got {type(password).__name__} "
                f"instead."
            )
        if len(password) < MIN_PASSWORD_LENGTH:  # never echo the password itself
            raise AccountError(
                f"The 'password' parameter of Accounts.{func} must have at least {MIN_PASSWORD_LENGTH} characters. "
                f"Got a password of {len(password)} character(s); choose a longer one (a passphrase of a few "
                f"words is easy to remember)."
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise AccountError(
                f"The 'password' parameter of Accounts.{func} must have at most {MAX_PASSWORD_LENGTH} characters. "
                f"Got {len(password)}."
            )
        if not password.strip():
            raise AccountError(f"The 'password' parameter of Accounts.{func} must not be only whitespace.")
        if password.casefold() == username.casefold():
            raise AccountError(f"The 'password' parameter of Accounts.{func} must not be the user name.")
        return password

    def _require_user(self, con: sqlite3.Connection, username: str, func: str) -> str:
        row = con.execute("SELECT username FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            known = [r[0] for r in con.execute("SELECT username FROM users ORDER BY username")]
            raise AccountError(
                f"The 'username' parameter of Accounts.{func} must name an existing account. Got {username!r}; "
                f"the accounts are {known[:20]!r}. Add it with Accounts.add (workbench users add)."
            )
        return str(row[0])

    # ------------------------------------------------------------------ managing users
    @property
    def enabled(self) -> bool:
        """Whether the project has at least one account (then serving it requires a login)."""
        return bool(self._read("SELECT 1 FROM users LIMIT 1"))

    def add(self, username: str, role: str, password: str) -> None:
        """Add an account; the password is stored only as a salted scrypt hash.

        Raises
        ------
        AccountError
            Empty or malformed name, unknown role, a password shorter than 8 characters (or the
            name itself), or a user of that name (in any letter case) already exists.
        """
        self._check_username(username, "add")
        self._check_role(role, "add")
        self._check_password(password, username, "add")
        hashed = hash_password(password)
        now = utc_now()
        with self._connect(write=True) as con:
            assert con is not None
            existing = con.execute("SELECT username FROM users WHERE username = ?", (username,)).fetchone()
            if existing is not None:
                raise AccountError(
                    f"The 'username' parameter of Accounts.add names an account that already exists: "
                    f"{existing[0]!r}. Choose another name, or change that account with Accounts.set_password / "
                    f"Accounts.set_role (workbench users passwd / role)."
                )
            con.execute(
                "INSERT INTO users (username, role, password_hash, created_at, password_changed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (username, role, hashed, now, now),
            )

    def remove(self, username: str) -> None:
        """Delete an account and end its sessions (its past decisions stay in the project, under its name)."""
        self._check_username(username, "remove")
        with self._connect(write=True) as con:
            assert con is not None
            name = self._require_user(con, username, "remove")
            con.execute("DELETE FROM users WHERE username = ?", (name,))
            con.execute("DELETE FROM sessions WHERE username = ?", (name,))

    def set_password(self, username: str, password: str) -> None:
        """Give an account a new password; its open sessions end and its failed logins are forgotten."""
        self._check_username(username, "set_password")
        self._check_password(password, username, "set_password")
        hashed = hash_password(password)
        with self._connect(write=True) as con:
            assert con is not None
            name = self._require_user(con, username, "set_password")
            con.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                        (hashed, utc_now(), name))
            con.execute("DELETE FROM sessions WHERE username = ?", (name,))
            con.execute("DELETE FROM login_failures WHERE username = ?", (name,))

    def set_role(self, username: str, role: str) -> None:
        """Change an account's role; it applies to the user's open sessions from their next request."""
        self._check_username(username, "set_role")
        self._check_role(role, "set_role")
        with self._connect(write=True) as con:
            assert con is not None
            name = self._require_user(con, username, "set_role")
            con.execute("UPDATE users SET role = ? WHERE username = ?", (role, name))

    def role(self, username: str) -> str | None:
        """The account's role, or None when there is no such account."""
        rows = self._read("SELECT role FROM users WHERE username = ?", (username,))
        return str(rows[0][0]) if rows else None

    def list(self) -> pd.DataFrame:
        """The accounts, by name: ``username``, ``role``, ``created_at``, ``last_login`` (never a hash)."""
        rows = self._read("SELECT username, role, created_at, last_login FROM users ORDER BY username COLLATE NOCASE")
        return pd.DataFrame(rows, columns=["username", "role", "created_at", "last_login"])

    # ------------------------------------------------------------------ logging in
    def _check_rate(self, con: sqlite3.Connection, username: str, client: str, now: float) -> None:
        since = now - self.failure_window
        for column, key, limit, who in (
            ("username", username, self.max_failures, f"for the user {username!r}"),
            ("client", client, self.max_client_failures, f"from this client ({client})"),
        ):
            times = [float(t) for (t,) in con.execute(
                f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? ORDER BY at", (key, since))]
            if len(times) >= limit:
                wait = max(1, math.ceil(times[len(times) - limit] + self.failure_window - now))
                raise RateLimitedError(
                    f"Too many failed logins {who}: {len(times)} in the last {self.failure_window:g} s. Wait "
                    f"{wait} s before trying again (an admin can reset it with a new password: workbench users "
                    f"set-password).",
                    retry_after=wait,
                )

    def authenticate(self, username: str, password: str, *, client: str = "local") -> tuple[str, str] | None:
        """Check a login; return ``(username as stored, role)``, or None for a wrong name or password.

        A failed attempt counts against the user and against ``client`` (e.g. the remote IP
        address). Once either has ``max_failures`` / ``max_client_failures`` failures within
        ``failure_window`` seconds, attempts are refused without looking at the password, raising
        :class:`RateLimitedError` with the seconds to wait. A success records ``last_login`` and
        forgets this client's failures for the user.
        """
        if not isinstance(username, str) or not isinstance(password, str) or not isinstance(client, str):
            raise AccountError(
                "The 'username', 'password' and 'client' parameters of Accounts.authenticate must be strings. "
                f"Got {type(username).__name__}, {type(password).__name__} and {type(client).__name__}."
            )
        client = client[:200] or "unknown"
        name = username.strip()[:64]
        now = time.time()
        with self._connect(write=True) as con:
            assert con is not None
            con.execute("DELETE FROM login_failures WHERE at <= ?", (now - self.failure_window,))
            self._check_rate(con, name, client, now)
            row = con.execute("SELECT username, role, password_hash FROM users WHERE username = ?",
                              (name,)).fetchone() if name and len(password) <= MAX_PASSWORD_LENGTH else None
        # the slow hash runs outside the write lock, so logins do not queue behind each other
        if row is None:
            burn_time(password[:MAX_PASSWORD_LENGTH])
            with self._connect(write=True) as con:
                assert con is not None
                con.execute("INSERT INTO login_failures (username, client, at) VALUES (?, ?, ?)",
                            (name or "?", client, now))
            return None
        stored_name, role, stored_hash = str(row[0]), str(row[1]), str(row[2])
        ok = verify_password(password, stored_hash)
        upgraded = hash_password(password) if ok and needs_rehash(stored_hash) else None
        with self._connect(write=True) as con:
            assert con is not None
            if not ok:
                con.execute("INSERT INTO login_failures (username, client, at) VALUES (?, ?, ?)",
                            (stored_name, client, now))
                return None
            con.execute("UPDATE users SET last_login = ? WHERE username = ?", (utc_now(), stored_name))
            con.execute("DELETE FROM login_failures WHERE username = ? AND client = ?", (stored_name, client))
            if upgraded is not None:  # the cost parameters were raised since: upgrade the stored hash
                con.execute("UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
                            (upgraded, stored_name, stored_hash))
        return stored_name, role

    def verify(self, username: str, password: str, *, client: str = "local") -> str | None:
        """The account's role if the password is right, else None (see :meth:`authenticate` for rate limits).

        Raises
        ------
        RateLimitedError
            Too many recent failures for this user or client; says how many seconds to wait.
        """
        found = self.authenticate(username, password, client=client)
        return None if found is None else found[1]

    def failed_logins(self, *, username: str | None = None, client: str | None = None) -> int:
        """How many failed logins count now (within ``failure_window``), for one user and/or one client."""
        sql = "SELECT count(*) FROM login_failures WHERE at > ?"
        params: list[Any] = [time.time() - self.failure_window]
        if username is not None:
            sql, params = sql + " AND username = ?", [*params, username]
        if client is not None:
            sql, params = sql + " AND client = ?", [*params, client]
        rows = self._read(sql, tuple(params))
        return int(rows[0][0]) if rows else 0

    # ------------------------------------------------------------------ sessions
    def cookie_secret(self) -> str:
        """The project's secret for signing session cookies, generated on first use (``auth/cookie_secret``, 0600)."""
        if self._secret is not None:
            return self._secret
        path = self.directory / SECRET_FILE
        if not path.exists():
            self._make_directory()
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:  # another process made it just now
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_urlsafe(48) + "\n")
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        secret = path.read_text(encoding="ascii", errors="replace").strip()
        if len(secret) < 32:
            raise AuthError(
                f"The cookie secret {str(path)!r} is damaged (too short). Delete the file: a new one is made on the "
                f"next start, and everyone has to log in again."
            )
        self._secret = secret
        return secret

    def _sign(self, payload: str) -> str:
        key = self.cookie_secret().encode("ascii")
        return _b64(hmac.new(key, f"wb-session-{_TOKEN_VERSION}.{payload}".encode("ascii"), hashlib.sha256).digest())

    def start_session(self, username: str, *, minutes: float = DEFAULT_SESSION_MINUTES,
                      client: str | None = None) -> str:
        """Open a session for an account; return the signed token to put in the session cookie.

        The token carries the user name, a random session id and the expiry, signed (HMAC-SHA256)
        with :meth:`cookie_secret`; the session is also recorded (as a hash of its id) so that
        :meth:`end_session` (logout), a new password or removing the account ends it at once.
        """
        self._check_username(username, "start_session")
        if (isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes)
                or minutes <= 0 or minutes > MAX_SESSION_MINUTES):
            raise AccountError(
                f"The 'minutes' parameter of Accounts.start_session must be a number of minutes in (0, "
                f"{MAX_SESSION_MINUTES}]. Got {minutes!r} instead."
            )
        now = time.time()
        expires = now + float(minutes) * 60.0
        sid = secrets.token_urlsafe(32)
        with self._connect(write=True) as con:
            assert con is not None
            name = self._require_user(con, username, "start_session")
            con.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            con.execute(
                "INSERT INTO sessions (sid_hash, username, created_at, expires_at, client) VALUES (?, ?, ?, ?, ?)",
                (_sid_hash(sid), name, now, expires, None if client is None else str(client)[:200]),
            )
        payload = _b64(json.dumps({"u": name, "s": sid, "e": round(expires, 3)}, separators=(",", ":")).encode())
        return f"{_TOKEN_VERSION}.{payload}.{self._sign(payload)}"

    def _decode(self, token: object) -> dict[str, Any] | None:
        if not isinstance(token, str) or len(token) > 2048:
            return None
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _TOKEN_VERSION:
            return None
        if not (self.directory / SECRET_FILE).exists():
            return None  # no secret yet: no session was ever issued
        if not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            return None
        try:
            data = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        if not isinstance(data, dict) or not {"u", "s", "e"} <= set(data):
            return None
        return data

    def session(self, token: str | None) -> Session | None:
        """The session a cookie token stands for, or None if it is forged, expired, ended or its user is gone."""
        data = self._decode(token)
        if data is None:
            return None
        now = time.time()
        try:
            sid, name, exp = str(data["s"]), str(data["u"]), float(data["e"])
        except (TypeError, ValueError):
            return None
        if exp <= now:
            return None
        rows = self._read(
            "SELECT s.username, u.role, s.expires_at FROM sessions s JOIN users u ON u.username = s.username "
            "WHERE s.sid_hash = ?", (_sid_hash(sid),))
        if not rows or str(rows[0][0]) != name or float(rows[0][2]) <= now:
            return None
        return Session(username=str(rows[0][0]), role=str(rows[0][1]), expires_at=min(exp, float(rows[0][2])))

    def end_session(self, token: str | None) -> bool:
        """End (log out) the session of a token; True if there was one."""
        data = self._decode(token)
        if data is None or not self.database.exists():
            return False
        with self._connect(write=True) as con:
            assert con is not None
            return con.execute("DELETE FROM sessions WHERE sid_hash = ?", (_sid_hash(str(data["s"])),)).rowcount > 0

    def sessions(self) -> pd.DataFrame:
        """The open sessions: ``username``, ``created_at``, ``expires_at`` (UTC timestamps), ``client``."""
        rows = self._read("SELECT username, created_at, expires_at, client FROM sessions WHERE expires_at > ? "
                          "ORDER BY created_at", (time.time(),))
        df = pd.DataFrame(rows, columns=["username", "created_at", "expires_at", "client"])
        for col in ("created_at", "expires_at"):
            df[col] = pd.to_datetime(df[col].astype(float), unit="s", utc=True)
        return df
