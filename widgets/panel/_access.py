"""Who is using a view, and what they may do: checked on the server before every page and every action.

A view never trusts the browser for identity or role. In a served app the identity is the session
behind the signed cookie, re-read from the project's accounts before each action (so an expired
session, a logout elsewhere, a removed account or a changed role apply at once). In a notebook the
identity is the person running the kernel, who owns the project files anyway.
"""

from __future__ import annotations

from typing import Protocol

from workbench.auth import ROLES, Accounts, PermissionDeniedError, can, require_permission
from workbench.exceptions import LabelValidationError

__all__ = ["Access", "LocalAccess", "SessionAccess"]


class Access(Protocol):
    """The identity a view records decisions under and the permission check it runs before each one."""

    @property
    def username(self) -> str:
        """The user's name (recorded as the annotator of every decision)."""
        ...

    @property
    def role(self) -> str:
        """The user's role (one of ``workbench.auth.ROLES``)."""
        ...

    def require(self, permission: str) -> str:
        """Check ``permission`` now; return the user's name, or raise ``PermissionDeniedError``."""
        ...

    def can(self, permission: str) -> bool:
        """Whether the user has ``permission`` now (no exception)."""
        ...


class LocalAccess:
    """The person running a notebook kernel: a fixed name and role (default ``"reviewer"``).

    Parameters
    ----------
    username : str
        The name recorded with each decision.
    role : {"annotator", "reviewer", "admin"}, default "reviewer"
        What the views let this person do (the same permissions table as the served app).
    """

    def __init__(self, username: str, role: str = "reviewer") -> None:
        if not isinstance(username, str) or not username.strip():
            raise LabelValidationError(
                f"The 'reviewer' parameter must be a non-empty string (the expert's name). Got {username!r} instead."
            )
        if role not in ROLES:
            raise LabelValidationError(f"The 'role' parameter must be one of {list(ROLES)!r}. Got {role!r} instead.")
        self._username = username
        self._role = role

    @property
    def username(self) -> str:
        return self._username

    @property
    def role(self) -> str:
        return self._role

    def require(self, permission: str) -> str:
        require_permission(self._role, permission, user=self._username)
        return self._username

    def can(self, permission: str) -> bool:
        return can(self._role, permission)

    def __repr__(self) -> str:
        return f"LocalAccess({self._username!r}, role={self._role!r})"


class SessionAccess:
    """A logged-in user of the served app, behind a signed session token.

    Every :meth:`require` re-reads the session from the project's accounts: the name recorded
    with a decision is the session's, never anything the browser sent.

    Parameters
    ----------
    accounts : workbench.auth.Accounts
        The project's accounts.
    token : str or None
        The session cookie's value.

    Raises
    ------
    PermissionDeniedError
        The token is missing, forged, expired or its session ended.
    """

    def __init__(self, accounts: Accounts, token: str | None) -> None:
        session = accounts.session(token)
        if session is None:
            raise PermissionDeniedError(
                "You are not logged in, or your session has ended (expired, logged out, or the account changed). "
                "Log in again at /login.",
                role=None, permission="session",
            )
        self._accounts = accounts
        self._token = token
        self._username = session.username
        self._role = session.role

    @property
    def username(self) -> str:
        return self._username

    @property
    def role(self) -> str:
        return self._role

    def require(self, permission: str) -> str:
        session = self._accounts.session(self._token)
        if session is None or session.username != self._username:
            raise PermissionDeniedError(
                "Your session has ended (it expired, you logged out, or your account changed): nothing was done. "
                "Log in again at /login.",
                role=None, permission=permission,
            )
        self._role = session.role
        require_permission(session.role, permission, user=session.username)
        return session.username

    def can(self, permission: str) -> bool:
        try:
            self.require(permission)
        except PermissionDeniedError:
            return False
        return True

    def __repr__(self) -> str:
        return f"SessionAccess({self._username!r}, role={self._role!r})"
