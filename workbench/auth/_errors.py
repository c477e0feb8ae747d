"""The errors of accounts, sessions, roles and serve addresses.

They are defined in :mod:`workbench.exceptions` with every other error of the workbench and
re-exported here (and from :mod:`workbench.auth`), where they were first defined.
"""

from __future__ import annotations

from workbench.exceptions import AccountError, AuthError, PermissionDeniedError, RateLimitedError

__all__ = ["AccountError", "AuthError", "PermissionDeniedError", "RateLimitedError"]
