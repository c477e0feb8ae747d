"""Accounts, roles and sessions of a project, for the served reviewer app (headless: no UI package).

Users and their roles (annotator, reviewer, admin) live in the project directory (``auth/``), with
passwords stored only as salted scrypt hashes. The permissions table says which role may open which view
and perform which action; the served app checks it on the server for every page and every action.
:func:`check_serve_address` refuses to listen beyond this machine without accounts and TLS.

Examples
--------
>>> from workbench.auth import Accounts, ROLES, can, check_serve_address   # doctest: +SKIP
>>> acc = Accounts("projects/spam")                                         # doctest: +SKIP
>>> acc.add("dr_lee", "reviewer", "a long passphrase")                      # doctest: +SKIP
>>> acc.verify("dr_lee", "a long passphrase", client="10.0.0.7")            # doctest: +SKIP
'reviewer'
>>> can("reviewer", "export")                                               # doctest: +SKIP
False
"""

from workbench.auth._accounts import (
    AUTH_DIR,
    DEFAULT_SESSION_MINUTES,
    MAX_SESSION_MINUTES,
    MIN_PASSWORD_LENGTH,
    Accounts,
    Session,
)
from workbench.auth._address import check_serve_address, is_loopback
from workbench.auth._errors import AccountError, AuthError, PermissionDeniedError, RateLimitedError
from workbench.auth._roles import (
    ACTIONS,
    PERMISSIONS,
    ROLES,
    VIEWS,
    can,
    home_view,
    require_permission,
    views_for,
)

__all__ = [
    "ACTIONS",
    "AUTH_DIR",
    "DEFAULT_SESSION_MINUTES",
    "MAX_SESSION_MINUTES",
    "MIN_PASSWORD_LENGTH",
    "PERMISSIONS",
    "ROLES",
    "VIEWS",
    "AccountError",
    "Accounts",
    "AuthError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Session",
    "can",
    "check_serve_address",
    "home_view",
    "is_loopback",
    "require_permission",
    "views_for",
]
