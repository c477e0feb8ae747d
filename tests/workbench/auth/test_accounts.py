"""Accounts of a project: hashing, verification, rate limits, roles, sessions, files, bad inputs."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.auth import (
    ROLES,
    AccountError,
    Accounts,
    AuthError,
    RateLimitedError,
)
from workbench.auth._hashing import SCRYPT_N, SCRYPT_P, SCRYPT_R, hash_password, needs_rehash, verify_password
from workbench.exceptions import ProjectNotFoundError

PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    with wb.Project.create(tmp_path / "proj", schema=wb.Schema.single("spam", ["ham", "spam"])) as project:
        return project.path


@pytest.fixture
def acc(project_dir: Path) -> Accounts:
    accounts = Accounts(project_dir, max_failures=3, max_client_failures=5, failure_window=60)
    accounts.add("dr_lee", "reviewer", PASSWORD)
    return accounts


def test_password_is_stored_only_as_a_salted_scrypt_hash(acc: Accounts) -> None:
    acc.add("dr_kim", "reviewer", PASSWORD)  # same password, different salt
    raw = acc.database.read_bytes()
    wal = acc.database.with_name(acc.database.name + "-journal")
    assert PASSWORD.encode() not in raw and (not wal.exists() or PASSWORD.encode() not in wal.read_bytes())
    with sqlite3.connect(acc.database) as con:
        hashes = dict(con.execute("SELECT username, password_hash FROM users").fetchall())
    lee, kim = hashes["dr_lee"], hashes["dr_kim"]
    assert lee.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$") and SCRYPT_N >= 2**14
    assert lee != kim and lee.split("$")[4] != kim.split("$")[4]  # per-user random salt
    assert verify_password(PASSWORD, lee) and verify_password(PASSWORD, kim)
    assert not verify_password(PASSWORD + "x", lee)
    assert not verify_password(PASSWORD, "not a hash") and needs_rehash("scrypt$1024$8$1$AA$AA")
    assert not needs_rehash(hash_password("another password"))


def test_list_never_shows_a_hash(acc: Accounts) -> None:
    acc.add("ann", "annotator", "annotator pass")
    table = acc.list()
    assert list(table.columns) == ["username", "role", "created_at", "last_login"]
    assert table[["username", "role"]].values.tolist() == [["ann", "annotator"], ["dr_lee", "reviewer"]]
    assert table["last_login"].isna().all()
    assert not table.astype(str).apply(lambda col: col.str.contains("scrypt")).any().any()


def test_verify_returns_the_role_and_records_the_login(acc: Accounts) -> None:
    assert acc.verify("dr_lee", PASSWORD) == "reviewer"
    assert acc.verify("DR_LEE", PASSWORD) == "reviewer"  # names are unique regardless of case
    assert acc.authenticate("Dr_Lee", PASSWORD) == ("dr_lee", "reviewer")  # the stored spelling
    assert acc.verify("dr_lee", "wrong password") is None
    assert acc.verify("nobody", PASSWORD) is None
    assert acc.list().loc[0, "last_login"] is not None
    assert acc.enabled


def test_an_account_less_project_writes_nothing_when_read(project_dir: Path) -> None:
    acc = Accounts(project_dir)
    assert not acc.enabled and acc.list().empty and acc.role("x") is None
    assert acc.session("v1.a.b") is None and not acc.end_session("v1.a.b")
    assert not (project_dir / "auth").exists()


def test_files_are_private_and_kept_out_of_git(acc: Accounts) -> None:
    secret = acc.cookie_secret()
    assert len(secret) >= 32 and acc.cookie_secret() == secret  # generated once, then kept
    assert Accounts(acc.path).cookie_secret() == secret  # per project, not per process
    folder = acc.directory
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(acc.database.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "cookie_secret").stat().st_mode) == 0o600
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_another_project_gets_another_secret(acc: Accounts, tmp_path: Path) -> None:
    with wb.Project.create(tmp_path / "other", schema=wb.Schema.single("spam", ["ham", "spam"])) as other:
        assert Accounts(other.path).cookie_secret() != acc.cookie_secret()


def test_failed_logins_are_rate_limited_per_user(acc: Accounts) -> None:
    for _ in range(3):
        assert acc.verify("dr_lee", "wrong", client="10.0.0.1") is None
    assert acc.failed_logins(username="dr_lee") == 3
    with pytest.raises(RateLimitedError, match=r"Too many failed logins for the user 'dr_lee': 3 in the last 60 s"
                                               r"\. Wait \d+ s") as info:
        acc.verify("dr_lee", PASSWORD, client="10.0.0.2")  # even the right password, from another client
    assert 1 <= info.value.retry_after <= 60
    with pytest.raises(RateLimitedError):  # another spelling of the same account is the same account
        acc.verify("DR_LEE", PASSWORD, client="10.0.0.3")
    # another user is not affected
    acc.add("dr_kim", "reviewer", PASSWORD)
    assert acc.verify("dr_kim", PASSWORD, client="10.0.0.2") == "reviewer"


def test_a_user_is_unlocked_when_the_window_passes(project_dir: Path) -> None:
    acc = Accounts(project_dir, max_failures=2, failure_window=1.5)
    acc.add("dr_lee", "reviewer", PASSWORD)
    assert acc.verify("dr_lee", "wrong") is None and acc.verify("dr_lee", "wrong") is None
    with pytest.raises(RateLimitedError):
        acc.verify("dr_lee", PASSWORD)
    time.sleep(1.6)
    assert acc.verify("dr_lee", PASSWORD) == "reviewer"


def test_failed_logins_are_rate_limited_per_client(acc: Accounts) -> None:
    for i in range(5):  # password spraying: one guess for each of many names, all from one client
        assert acc.verify(f"user{i}", "guess", client="203.0.113.9") is None
    with pytest.raises(RateLimitedError, match=r"from this client \(203\.0\.113\.9\)"):
        acc.verify("dr_lee", PASSWORD, client="203.0.113.9")
    assert acc.verify("dr_lee", PASSWORD, client="198.51.100.1") == "reviewer"


def test_a_new_password_resets_failures_and_ends_sessions(acc: Accounts) -> None:
    token = acc.start_session("dr_lee")
    for _ in range(3):
        acc.verify("dr_lee", "wrong")
    acc.set_password("dr_lee", "a brand new passphrase")
    assert acc.session(token) is None
    assert acc.verify("dr_lee", PASSWORD) is None
    assert acc.verify("dr_lee", "a brand new passphrase") == "reviewer"


def test_roles_can_change_and_apply_to_open_sessions(acc: Accounts) -> None:
    assert ROLES == ("annotator", "reviewer", "admin")
    token = acc.start_session("dr_lee")
    acc.set_role("dr_lee", "admin")
    assert acc.role("dr_lee") == "admin" and acc.verify("dr_lee", PASSWORD) == "admin"
    session = acc.session(token)
    assert session is not None and session.role == "admin"


def test_sessions_are_signed_expire_and_end_on_logout(acc: Accounts) -> None:
    token = acc.start_session("dr_lee", minutes=60, client="10.0.0.1")
    session = acc.session(token)
    assert session is not None and session.username == "dr_lee" and session.role == "reviewer"
    assert 3500 < session.seconds_left <= 3600
    version, payload, signature = token.split(".")
    assert acc.session(f"{version}.{payload}.{signature[:-2]}AA") is None  # a forged signature
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    assert acc.session(f"{version}.{forged_payload}.{signature}") is None
    assert acc.session("") is None and acc.session(None) is None and acc.session("garbage") is None
    assert len(acc.sessions()) == 1 and acc.sessions().loc[0, "client"] == "10.0.0.1"
    assert acc.end_session(token) is True
    assert acc.session(token) is None and not acc.end_session(token)
    short = acc.start_session("dr_lee", minutes=0.02)  # 1.2 s
    assert acc.session(short) is not None
    time.sleep(1.3)
    assert acc.session(short) is None


def test_a_token_of_another_project_is_refused(acc: Accounts, tmp_path: Path) -> None:
    with wb.Project.create(tmp_path / "other", schema=wb.Schema.single("spam", ["ham", "spam"])) as other:
        elsewhere = Accounts(other.path)
        elsewhere.add("dr_lee", "admin", PASSWORD)
        assert acc.session(elsewhere.start_session("dr_lee")) is None


def test_removing_a_user_ends_their_sessions(acc: Accounts) -> None:
    token = acc.start_session("dr_lee")
    acc.remove("dr_lee")
    assert acc.session(token) is None and acc.list().empty and not acc.enabled
    assert acc.verify("dr_lee", PASSWORD) is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.add("", "reviewer", PASSWORD), r"'username' parameter of Accounts\.add must be a non-empty "
                                                    r"string\. Got ''"),
        (lambda a: a.add("   ", "reviewer", PASSWORD), r"must be a non-empty string\. Got '   '"),
        (lambda a: a.add(None, "reviewer", PASSWORD), r"must be a non-empty string\. Got None"),
        (lambda a: a.add("<img src=x>", "reviewer", PASSWORD), r"must be 1 to 64 letters, digits or '_', '\.', '@', "
                                                               r"'-'.*Got '<img src=x>'"),
        (lambda a: a.add("a" * 65, "reviewer", PASSWORD), r"1 to 64 letters"),
        (lambda a: a.add("bob", "root", PASSWORD), r"'role' parameter of Accounts\.add must be one of "
                                                   r"\['annotator', 'reviewer', 'admin'\]\. Got 'root'"),
        (lambda a: a.add("bob", "reviewer", "short"), r"'password' parameter of Accounts\.add must have at least 8 "
                                                      r"characters\. Got a password of 5 character"),
        (lambda a: a.add("bob", "reviewer", "x" * 1025), r"at most 1024 characters"),
        (lambda a: a.add("bob", "reviewer", " " * 9), r"must not be only whitespace"),
        (lambda a: a.add("bobbybob", "reviewer", "BobbyBob"), r"must not be the user name"),
        (lambda a: a.add("bob", "reviewer", 12345678), r"must be a string\. Got int"),
        (lambda a: a.add("DR_LEE", "admin", PASSWORD), r"names an account that already exists: 'dr_lee'"),
        (lambda a: a.remove("nobody"), r"'username' parameter of Accounts\.remove must name an existing account\. "
                                       r"Got 'nobody'; the accounts are \['dr_lee'\]"),
        (lambda a: a.set_role("dr_lee", "superuser"), r"'role' parameter of Accounts\.set_role must be one of"),
        (lambda a: a.set_role("nobody", "admin"), r"must name an existing account"),
        (lambda a: a.set_password("dr_lee", "1234"), r"at least 8 characters"),
        (lambda a: a.start_session("dr_lee", minutes=0), r"'minutes' parameter of Accounts\.start_session"),
        (lambda a: a.start_session("nobody"), r"must name an existing account"),
        (lambda a: a.verify("dr_lee", None), r"must be strings\. Got str, NoneType and str"),
    ],
)
def test_bad_inputs_say_what_to_do(acc: Accounts, call, message: str) -> None:  # type: ignore[no-untyped-def]
    before = acc.list()
    with pytest.raises(AccountError, match=message):
        call(acc)
    pd.testing.assert_frame_equal(acc.list(), before)  # nothing was written


def test_the_password_never_appears_in_an_error(acc: Accounts) -> None:
    with pytest.raises(AccountError) as info:
        acc.add("bob", "reviewer", "sEcr3t")
    assert "sEcr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_failures": 0}, r"'max_failures' parameter of Accounts must be a positive integer\. Got 0"),
        ({"max_client_failures": True}, r"'max_client_failures' parameter of Accounts must be a positive integer"),
        ({"failure_window": -1}, r"'failure_window' parameter of Accounts must be a positive number of seconds"),
    ],
)
def test_bad_settings(project_dir: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AccountError, match=message):
        Accounts(project_dir, **kwargs)  # type: ignore[arg-type]


def test_accounts_need_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError, match=r"There is no workbench project at .*no workbench\.json"):
        Accounts(tmp_path)
    with pytest.raises(AccountError, match=r"'project_path' parameter of Accounts must be a path"):
        Accounts(42)  # type: ignore[arg-type]


def test_a_damaged_accounts_file_is_reported(acc: Accounts) -> None:
    acc.database.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AuthError, match=r"The accounts file .* cannot be used"):
        acc.list()


def test_a_damaged_cookie_secret_is_reported(acc: Accounts) -> None:
    path = acc.directory / "cookie_secret"
    acc.cookie_secret()
    path.write_text("short")
    os.chmod(path, 0o644)
    with pytest.raises(AuthError, match=r"cookie secret .* is damaged"):
        Accounts(acc.path).cookie_secret()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # loosened permissions are tightened again


def test_importing_workbench_auth_loads_no_ui_package() -> None:
    code = ("import sys, workbench.auth; print(sorted(m for m in ('panel', 'bokeh', 'param', 'ipywidgets', "
            "'tornado', 'IPython') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
