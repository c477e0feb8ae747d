"""The errors of accounts, sessions, roles and serve addresses."""

from __future__ import annotations

from workbench.exceptions import WorkbenchError

__all__ = ["AccountError", "AuthError", "PermissionDeniedError", "RateLimitedError"]


class AuthError(WorkbenchError):
    """Base class of every refusal by :mod:`workbench.auth`: a bad account input, a refused login,
    a role without the permission, an address ``serve`` must not listen on."""


class AccountError(AuthError, ValueError):
    """An account input is invalid (empty or malformed name, unknown role, short password, duplicate
    or unknown user); nothing was written."""


class PermissionDeniedError(AuthError, PermissionError):
    """The user's role does not allow the requested view or action (or the user has no valid session).

    Attributes
    ----------
    role : str or None
        The role that was refused (None: nobody is logged in).
    permission : str
        The view or action asked for, e.g. ``"view:lfs"`` or ``"export"``.
    """

    def __init__(self, message: str, *, role: str | None, permission: str) -> None:
        super().__init__(message)
        self.role = role
        self.permission = permission

    def __str__(self) -> str:  # PermissionError would format (errno, strerror)
        return str(self.args[0]) if self.args else ""


class RateLimitedError(AuthError):
    """Too many failed logins for this user or from this client; nothing was checked.

    Attributes
    ----------
    retry_after : int
        Seconds to wait before the next attempt is considered.
    """

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
