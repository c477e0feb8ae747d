"""One exceptions module: the errors of accounts, reports and the command line live in workbench.exceptions,
derive from WorkbenchError, and are still importable from where they were first defined."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench.auth
import workbench.auth._errors
import workbench.cli
import workbench.report
from workbench import exceptions
from workbench.auth import check_serve_address, require_permission
from workbench.report import template_parameters

# name -> the public places it was importable from before it moved
MOVED = {
    "AuthError": [workbench.auth, workbench.auth._errors],
    "AccountError": [workbench.auth, workbench.auth._errors],
    "PermissionDeniedError": [workbench.auth, workbench.auth._errors],
    "RateLimitedError": [workbench.auth, workbench.auth._errors],
    "ReportError": [workbench.report],
    "CLIError": [workbench.cli],
}


@pytest.mark.parametrize("name", sorted(MOVED))
def test_each_moved_error_is_a_workbench_error_defined_in_the_exceptions_module(name: str) -> None:
    cls = getattr(exceptions, name)
    assert name in exceptions.__all__
    assert issubclass(cls, exceptions.WorkbenchError) and cls.__module__ == "workbench.exceptions"
    assert cls.__doc__ and cls.__doc__.strip()
    for old_home in MOVED[name]:
        assert getattr(old_home, name) is cls, old_home.__name__  # the old import still gives the same class


def test_the_auth_errors_keep_their_builtin_bases_and_attributes() -> None:
    assert issubclass(exceptions.AccountError, exceptions.AuthError) and issubclass(exceptions.AccountError, ValueError)
    assert issubclass(exceptions.RateLimitedError, exceptions.AuthError)
    err = exceptions.PermissionDeniedError("dr_lee may not export", role="reviewer", permission="export")
    assert isinstance(err, PermissionError) and str(err) == "dr_lee may not export"
    assert (err.role, err.permission) == ("reviewer", "export")
    assert exceptions.RateLimitedError("wait", retry_after=30).retry_after == 30


def test_real_refusals_are_caught_as_workbench_errors(tmp_path: Path) -> None:
    with pytest.raises(exceptions.WorkbenchError) as info:
        check_serve_address("0.0.0.0", auth_enabled=False)
    assert type(info.value) is exceptions.AuthError and "Refusing to listen on '0.0.0.0'" in str(info.value)
    with pytest.raises(exceptions.WorkbenchError) as info:
        require_permission("reviewer", "export", user="dr_lee")
    assert type(info.value) is exceptions.PermissionDeniedError and info.value.permission == "export"
    with pytest.raises(exceptions.WorkbenchError) as info:
        template_parameters(tmp_path / "missing.ipynb")
    assert type(info.value) is exceptions.ReportError and "does not exist" in str(info.value)


def test_a_cli_error_is_reported_on_one_line_with_exit_status_2(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert workbench.cli.main(["demo", str(tmp_path / "p")]) == 0
    capsys.readouterr()
    assert workbench.cli.main(["labels", str(tmp_path / "p"), "--out", str(tmp_path / "labels.xyz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error: Cannot tell the format of --out") and err.count("\n") == 1
