"""Roles and the permissions table: which role may open which view and perform which action.

The table is the single source of truth for the served reviewer app: every page request and every
action is checked against it on the server (``can`` / ``require_permission``), never by hiding a button.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from workbench.exceptions import AuthError, PermissionDeniedError

__all__ = ["ACTIONS", "PERMISSIONS", "ROLES", "VIEWS", "can", "home_view", "require_permission", "views_for"]

#: The roles an account can have, least privileged first.
ROLES: tuple[str, ...] = ("annotator", "reviewer", "admin")

#: The pages of the served app (each is a URL ``/<view>``), in menu order.
VIEWS: tuple[str, ...] = ("annotate", "overview", "adjudication", "quality", "lfs", "versions", "relabel", "export")

#: The actions that change or take something out of the project.
ACTIONS: tuple[str, ...] = ("annotate", "adjudicate", "relabel", "export", "edit_lfs", "change_schema",
                            "manage_users")

_REVIEW = frozenset({"reviewer", "admin"})
_TABLE: dict[str, frozenset[str]] = {
    # views: an annotator sees only the annotation view; a reviewer every review page; an admin all
    "view:annotate": frozenset({"annotator", "admin"}),
    "view:overview": _REVIEW,
    "view:adjudication": _REVIEW,
    "view:quality": _REVIEW,
    "view:lfs": _REVIEW,  # read-only for everyone: the served LF dashboard has no editing control
    "view:versions": _REVIEW,
    "view:relabel": _REVIEW,
    "view:export": frozenset({"admin"}),
    # actions
    "annotate": frozenset({"annotator", "admin"}),
    "adjudicate": _REVIEW,
    "relabel": _REVIEW,
    "export": frozenset({"admin"}),
    "edit_lfs": frozenset({"admin"}),
    "change_schema": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
}

#: Permission (``"view:<view>"`` or an action) -> the roles that have it. Read-only.
PERMISSIONS: Mapping[str, frozenset[str]] = MappingProxyType(_TABLE)


def _check_permission(permission: object, func: str) -> str:
    if not isinstance(permission, str) or permission not in PERMISSIONS:
        raise AuthError(
            f"The 'permission' parameter of {func} must be one of {sorted(PERMISSIONS)!r}. Got {permission!r} "
            f"instead; a view is named 'view:<name>' with <name> in {list(VIEWS)!r}."
        )
    return permission


def can(role: str | None, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (a view ``"view:<name>"`` or an action such as ``"export"``).

    An unknown role (or None: nobody logged in) has no permission; an unknown permission is a
    programming error and raises :class:`AuthError` rather than quietly answering False.

    Examples
    --------
    >>> can("reviewer", "view:lfs"), can("reviewer", "export"), can("annotator", "view:lfs")
    (True, False, False)
    """
    return role in PERMISSIONS[_check_permission(permission, "can")]


def require_permission(role: str | None, permission: str, *, user: str | None = None) -> None:
    """Raise :class:`PermissionDeniedError` unless ``role`` has ``permission``.

    Examples
    --------
    >>> require_permission("admin", "export")
    >>> require_permission("reviewer", "export", user="dr_lee")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.exceptions.PermissionDeniedError: dr_lee (role 'reviewer') may not export: ...
    """
    _check_permission(permission, "require_permission")
    if can(role, permission):
        return
    who = f"{user} (role {role!r})" if user else (f"The role {role!r}" if role else "Nobody logged in")
    allowed = sorted(PERMISSIONS[permission], key=ROLES.index)
    what = f"open the {permission[5:]!r} view" if permission.startswith("view:") else permission.replace("_", " ")
    raise PermissionDeniedError(
        f"{who} may not {what}: it needs one of the roles {allowed!r}. Ask an admin to change the role "
        f"(workbench users set-role PROJECT NAME ROLE), or log in with another account.",
        role=role, permission=permission,
    )


def views_for(role: str | None) -> tuple[str, ...]:
    """The views ``role`` may open, in menu order (empty for an unknown role)."""
    return tuple(v for v in VIEWS if can(role, f"view:{v}"))


def home_view(role: str | None) -> str | None:
    """The page a user of ``role`` lands on after logging in (None for an unknown role)."""
    for view in ("adjudication", "annotate", *VIEWS):
        if can(role, f"view:{view}"):
            return view
    return None
