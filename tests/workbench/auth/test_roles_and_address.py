"""The permissions table (which role may open which view and do which action) and serve-address rules."""

from __future__ import annotations

import pytest

import workbench.auth as auth
from workbench.auth import (
    ACTIONS,
    PERMISSIONS,
    ROLES,
    VIEWS,
    AuthError,
    PermissionDeniedError,
    can,
    check_serve_address,
    home_view,
    require_permission,
    views_for,
)

# The rules, written out independently of the table: an annotator sees only the annotation
# view; a reviewer every review page (LFs read-only) but cannot export, edit LFs or change the schema;
# an admin everything.
EXPECTED_VIEWS = {
    "annotator": {"annotate"},
    "reviewer": {"overview", "adjudication", "quality", "lfs", "versions", "relabel"},
    "admin": set(VIEWS),
}
EXPECTED_ACTIONS = {
    "annotator": {"annotate"},
    "reviewer": {"adjudicate", "relabel"},
    "admin": set(ACTIONS),
}


def test_public_names_are_pinned() -> None:
    assert sorted(auth.__all__) == sorted([
        "ACTIONS", "AUTH_DIR", "DEFAULT_SESSION_MINUTES", "MAX_SESSION_MINUTES", "MIN_PASSWORD_LENGTH",
        "PERMISSIONS", "ROLES", "VIEWS", "AccountError", "Accounts", "AuthError", "PermissionDeniedError",
        "RateLimitedError", "Session", "can", "check_serve_address", "home_view", "is_loopback",
        "require_permission", "views_for",
    ])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", VIEWS)
def test_each_view(role: str, view: str) -> None:
    allowed = view in EXPECTED_VIEWS[role]
    assert can(role, f"view:{view}") is allowed
    if allowed:
        require_permission(role, f"view:{view}")
    else:
        with pytest.raises(PermissionDeniedError, match=rf"may not open the '{view}' view: it needs one of the "
                                                         rf"roles") as info:
            require_permission(role, f"view:{view}", user="someone")
        assert info.value.role == role and info.value.permission == f"view:{view}"
        assert isinstance(info.value, PermissionError)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_action(role: str, action: str) -> None:
    assert can(role, action) is (action in EXPECTED_ACTIONS[role])


def test_nobody_and_unknown_roles_have_no_permission() -> None:
    for permission in PERMISSIONS:
        assert not can(None, permission) and not can("root", permission)
    with pytest.raises(PermissionDeniedError, match="Nobody logged in may not export"):
        require_permission(None, "export")
    assert views_for("root") == () and home_view("root") is None


def test_an_unknown_permission_is_an_error_not_a_no() -> None:
    with pytest.raises(AuthError, match=r"'permission' parameter of can must be one of .*Got 'view:admin_panel'"):
        can("admin", "view:admin_panel")
    with pytest.raises(AuthError, match=r"'permission' parameter of require_permission"):
        require_permission("admin", "delete_everything")


def test_the_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        PERMISSIONS["export"] = frozenset(ROLES)  # type: ignore[index]


def test_menus_and_home_pages() -> None:
    assert views_for("annotator") == ("annotate",)
    assert views_for("reviewer") == ("overview", "adjudication", "quality", "lfs", "versions", "relabel")
    assert views_for("admin") == VIEWS
    assert (home_view("annotator"), home_view("reviewer"), home_view("admin")) == ("annotate", "adjudication",
                                                                                   "adjudication")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_is_always_allowed(address: str) -> None:
    check_serve_address(address, auth_enabled=False)


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "reviewers.example.org"])
def test_beyond_localhost_needs_accounts_and_encryption(address: str) -> None:
    with pytest.raises(AuthError, match=rf"Refusing to listen on '{address}': the project has no accounts.*"
                                        r"workbench users add"):
        check_serve_address(address, auth_enabled=False, tls=True)
    with pytest.raises(AuthError, match=r"without encryption.*--tls-cert FILE --tls-key FILE.*--behind-proxy"):
        check_serve_address(address, auth_enabled=True)
    check_serve_address(address, auth_enabled=True, tls=True)
    check_serve_address(address, auth_enabled=True, behind_proxy=True)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("",), {"auth_enabled": True}, r"'address' parameter of check_serve_address must be a non-empty host"),
        ((None,), {"auth_enabled": True}, r"must be a non-empty host name or IP address.*Got None"),
        (("0.0.0.0",), {"auth_enabled": "yes"}, r"'auth_enabled' parameter of check_serve_address must be True or "
                                                r"False\. Got 'yes'"),
        (("0.0.0.0",), {"auth_enabled": True, "tls": 1}, r"'tls' parameter"),
    ],
)
def test_bad_address_arguments(args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AuthError, match=message):
        check_serve_address(*args, **kwargs)  # type: ignore[arg-type]
