"""The ``workbench`` command: every command, and every error path as one line on stderr with exit status 2."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import workbench as wb
from workbench.cli import main

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          input=stdin, timeout=timeout, cwd=REPO)


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("workbench: error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A project with 40 comments, gold on 10 and a label version v1."""
    path = tmp_path / "p"
    p = wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"]))
    data = wb.datasets.load_demo(40, random_state=3)
    p.add_data(data[["id", "text"]], id_column="id")
    p.add_gold(data.head(10), id_column="id", label_column="label")
    p.lfs.add(wb.lf.keywords("link", ["http"], label=1))
    p.versions.save(p.models.soft_labels("majority_vote"), message="first")
    p.close()
    return path


# ---------------------------------------------------------------------- the old commands still work
def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = tmp_path / "p"
    assert main(["init", str(proj), "--name", "spam", "--choices", "ham", "spam"]) == 0
    csv = tmp_path / "d.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}).to_csv(csv, index=False)
    assert main(["add-data", str(proj), str(csv), "--id-column", "id"]) == 0  # the old name of ingest
    assert "d1: 2 new example(s)" in capsys.readouterr().out
    assert main(["info", str(proj)]) == 0
    assert "examples=2" in capsys.readouterr().out
    assert main(["verify", str(proj)]) == 0
    assert main(["labels", str(proj), "--out", str(tmp_path / "l.csv")]) == 0
    assert main(["history", str(proj), "zzz"]) == 2
    assert "not in this project" in capsys.readouterr().err


def test_cli_demo_builds_a_labelled_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path / "demo"), "--n", "50"]) == 0
    p = wb.Project.open(tmp_path / "demo")
    assert len(p) > 0 and len(p.labels()) == 6
    p.close()
    assert main(["demo", str(tmp_path / "demo")]) == 0  # kept, not rebuilt
    assert "kept" in capsys.readouterr().out
    p = wb.Project.open(tmp_path / "demo")
    p.annotate(p.examples().index[10], "spam", annotator="me")
    p.close()
    assert main(["demo", str(tmp_path / "demo"), "--n", "50", "--force"]) == 0  # rebuilt: the extra label is gone
    p = wb.Project.open(tmp_path / "demo")
    assert len(p.labels()) == 6
    p.close()


@pytest.mark.parametrize("force", [False, True])
def test_cli_demo_never_replaces_another_project(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 force: bool) -> None:
    real = tmp_path / "real"
    assert main(["init", str(real), "--name", "toxic", "--choices", "ok", "toxic"]) == 0
    (tmp_path / "d.csv").write_text("id,text\nu1,my real data\n")
    assert main(["ingest", str(real), str(tmp_path / "d.csv"), "--id-column", "id"]) == 0
    (real / "NOTES.txt").write_text("my notes")
    capsys.readouterr()
    assert main(["demo", str(real), *(["--force"] if force else [])]) == 2
    err = capsys.readouterr().err
    assert "not the demo" in err and "another path" in err
    assert (real / "NOTES.txt").read_text() == "my notes"
    p = wb.Project.open(real)
    assert p.schema.questions[0].name == "toxic" and len(p) == 1
    p.close()


def test_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "none")]) == 2
    assert "There is no project" in capsys.readouterr().err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for command in ("init", "ingest", "status", "users", "serve", "report", "export", "labels", "history",
                    "verify", "demo"):
        assert f"\n    {command}" in out, command
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    sub = capsys.readouterr().out
    assert "--format" in sub and "--out" in sub


# ---------------------------------------------------------------------- ingest
def test_ingest_says_when_nothing_new_was_added(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p"
    assert main(["init", str(path), "--name", "spam", "--choices", "ham", "spam"]) == 0
    csv = tmp_path / "d.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}).to_csv(csv, index=False)
    assert main(["ingest", str(path), str(csv), "--id-column", "id"]) == 0
    assert "d1: 2 new example(s)" in capsys.readouterr().out
    assert main(["ingest", str(path), str(csv), "--id-column", "id"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nothing new was added") and "d1" in out
    with wb.Project.open(path) as p:
        assert list(p.data_versions()["version"]) == ["d1"]


@pytest.mark.parametrize(
    ("make", "flags", "expected"),
    [
        (lambda d: pd.DataFrame({"id": ["a"], "text": ["x"]}).to_csv(d / "f.csv", index=False), ["--id-column", "nope"],
         "Leave out --id-column"),
        (lambda d: (d / "f.csv").write_bytes("id,text\na,caf\xe9\n".encode("latin-1")), ["--id-column", "id"],
         "--encoding cp1252"),
        (lambda d: pd.DataFrame({"id": ["a"], "body": ["x"]}).to_csv(d / "f.csv", index=False), ["--id-column", "id"],
         "--text-column"),
        (lambda d: pd.DataFrame({"id": ["a"], "text": ["x"]}).to_csv(d / "f.csv", index=False), [],
         "--id-column id"),
        (lambda d: None, [], "No such file"),
        (lambda d: (d / "f.csv").mkdir(), [], "is a directory"),
    ],
)
def test_ingest_errors_name_cli_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], make, flags: list[str],
                                      expected: str) -> None:
    path = tmp_path / "p"
    wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"])).close()
    make(tmp_path)
    assert main(["ingest", str(path), str(tmp_path / "f.csv"), *flags]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert expected in line
    assert "_column=" not in line and "encoding=" not in line  # hints name flags, not Python arguments


# ---------------------------------------------------------------------- status
def test_status_text_and_json(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(proj)]) == 0
    out = capsys.readouterr().out
    assert "examples  40 in 1 data version(s)" in out and "v1" in out and "no human annotations yet" in out
    assert main(["status", str(proj), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["examples"] == 40 and data["counts"]["gold"] == 10
    assert [v["name"] for v in data["label_versions"]] == ["v1"]
    assert data["queues"]["annotation"]["n_items"] == 30


def test_status_refuses_a_window_that_is_not_one(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(proj), "--window", "banana"]) == 2
    assert "--window 'banana' is not a time window" in one_error_line(capsys.readouterr().err)
    assert main(["status", str(proj), "--window", "12h"]) == 0
    assert main(["status", str(proj), "--window", "0"]) == 2
    assert "--window '0': a count of answers per window must be at least 1" in one_error_line(capsys.readouterr().err)
    assert main(["status", str(proj), "--window=-1D"]) == 2  # a span, but not a positive one
    assert "--window '-1D' is not a time window" in one_error_line(capsys.readouterr().err)


def test_status_takes_a_count_of_answers_as_the_drift_window(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with wb.Project.open(proj) as p:
        gold = p.gold()
        for name in ("ann", "bea"):
            p.annotate_many(pd.DataFrame({"example_id": gold.index, "value": gold.to_numpy(), "annotator": name}))
    assert main(["status", str(proj), "--window", "5", "--json"]) == 0
    by_count = json.loads(capsys.readouterr().out)
    assert main(["status", str(proj), "--json"]) == 0
    by_time = json.loads(capsys.readouterr().out)
    # nobody drifts: the same report either way
    assert by_count["quality"]["annotators"] == by_time["quality"]["annotators"]
    assert set(by_count["quality"]["annotators"]) == {"ann", "bea"} and by_count["quality"]["flagged"] == []


def test_status_of_an_empty_project_is_friendly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"])).close()
    assert main(["status", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "data versions: none yet (workbench ingest PROJECT FILE)" in out and "label versions: none yet" in out


# ---------------------------------------------------------------------- labels
@pytest.mark.parametrize(("suffix", "read"), [(".csv", pd.read_csv), (".parquet", pd.read_parquet),
                                              (".jsonl", lambda f: pd.read_json(f, lines=True)),
                                              (".json", pd.read_json)])
def test_labels_format_follows_the_suffix(proj: Path, tmp_path: Path, suffix: str, read) -> None:
    out = tmp_path / f"labels{suffix}"
    assert main(["labels", str(proj), "--out", str(out)]) == 0
    back = read(out)
    assert len(back) == 10 and set(back["value"]) <= {"ham", "spam"}
    if suffix == ".parquet":
        assert out.read_bytes()[:4] == b"PAR1"  # real Parquet, not CSV text


def test_labels_json_and_empty_results(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["labels", str(proj), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 10
    assert main(["labels", str(proj), "--annotator", "nobody"]) == 0
    assert capsys.readouterr().out.strip() == "no labels match --annotator nobody."


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--out", "{tmp}/missing/l.csv"], "does not exist"),
        (["--out", "{tmp}"], "is a directory"),
        (["--out", "{tmp}/l.xlsx"], "Cannot tell the format"),
        (["--out", "{tmp}/l.csv", "--format", "parquet"], "does not match the suffix"),
        (["--out", "{tmp}/l", "--format", "xml"], "Unknown --format 'xml'"),
        (["--format", "csv"], "--format needs --out"),
        (["--source", "bogus"], "--source 'bogus' is not a label source; use one of human, "),
        (["--question", "nope"], "--question 'nope' is not a question of this project's schema; its questions: "),
    ],
)
def test_labels_out_errors(proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                           expected: str) -> None:
    assert main(["labels", str(proj), *[a.format(tmp=tmp_path) for a in args]]) == 2
    assert expected in one_error_line(capsys.readouterr().err)


@pytest.mark.slow
def test_broken_pipe_exits_quietly(tmp_path: Path) -> None:
    path = tmp_path / "p"
    p = wb.Project.create(path, schema=wb.Schema.single("spam", ["ham", "spam"]))
    data = wb.datasets.load_demo(3000, random_state=0)
    p.add_data(data[["id", "text"]], id_column="id")
    p.add_gold(data, id_column="id", label_column="label")
    p.close()
    cmd = f"{sys.executable} -m workbench.cli labels {path} | head -1"
    res = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True, timeout=120,
                         cwd=REPO)
    assert res.stdout.count("\n") == 1 and "event_id" in res.stdout
    assert res.stderr == ""                       # no traceback, no "Exception ignored"
    assert res.returncode == 141                  # like any Unix tool cut off by a closed pipe


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize(("fmt", "suffix"), [("parquet", ".parquet"), ("csv", ".csv"), ("jsonl", ".jsonl")])
def test_export_a_label_version(proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str,
                                suffix: str) -> None:
    out = tmp_path / f"train{suffix}"
    assert main(["export", str(proj), "v1", "--out", str(out), "--json"]) == 0  # format from the suffix
    summary = json.loads(capsys.readouterr().out)
    with wb.Project.open(proj) as p:
        soft = p.versions.load("v1")
        texts = p.examples()["text"]
    assert summary["format"] == fmt and summary["rows"] == len(soft) and summary["version"] == "v1"
    back = {"parquet": pd.read_parquet, "csv": pd.read_csv,
            "jsonl": lambda f: pd.read_json(f, lines=True)}[fmt](out)
    assert list(back["id"]) == list(soft.index) and list(back["label"]) == list(soft["label"])
    assert list(back["text"]) == list(texts.loc[soft.index])       # ready to train: text + labels
    assert {"p_ham", "p_spam", "weight"} <= set(back.columns)
    if fmt == "parquet":
        meta = json.loads(pq.read_schema(out).metadata[b"workbench.label_version"])
        assert meta["name"] == "v1" and meta["content_hash"] == summary["content_hash"]
    # --format wins over a suffix-less name; --labels-only leaves the data out
    other = tmp_path / "train_labels"
    assert main(["export", str(proj), "v1", "--out", str(other), "--format", fmt, "--labels-only"]) == 0
    assert f"({fmt})" in capsys.readouterr().out


def test_export_keeps_a_data_column_named_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = wb.Schema.single("spam", choices=["ham", "spam"])
    with wb.Project.create(tmp_path / "p", schema=schema) as p:
        p.add_data(pd.DataFrame({"frame_id": ["f1", "f2"], "id": [17, 18], "text": ["buy now", "nice song"]}),
                   id_column="frame_id")
        p.lfs.add(wb.lf.keywords("buy", ["buy"], label=1))
        p.lfs.add(wb.lf.keywords("song", ["song"], label=0))
        p.versions.save(p.models.soft_labels("majority_vote"))
    out = tmp_path / "train.csv"
    assert main(["export", str(tmp_path / "p"), "v1", "--out", str(out)]) == 0, capsys.readouterr().err
    back = pd.read_csv(out)
    assert list(back["id"]) == ["f1", "f2"] and list(back["data.id"]) == [17, 18]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["v9", "--out", "{tmp}/t.parquet"], "Unknown label version 'v9'"),
        (["v1", "--out", "{tmp}/nope/t.parquet"], "does not exist"),
        (["v1", "--out", "{tmp}"], "is a directory"),
        (["v1", "--out", "{tmp}/t.xlsx"], "Cannot tell the format"),
        (["v1", "--out", "{tmp}/t.csv", "--format", "feather"], "Unknown --format 'feather'"),
        (["v1", "--out", "{tmp}/t.csv", "--format", "parquet"], "does not match the suffix"),
    ],
)
def test_export_errors(proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                       expected: str) -> None:
    assert main(["export", str(proj), *[a.format(tmp=tmp_path) for a in args]]) == 2
    assert expected in one_error_line(capsys.readouterr().err)


def test_export_hf(proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hf_dataset"
    code = main(["export", str(proj), "v1", "--out", str(out), "--format", "hf"])
    try:
        import datasets
    except ImportError:
        assert code == 2
        line = one_error_line(capsys.readouterr().err)
        assert "'datasets' package" in line and "pip install datasets" in line and not out.exists()
        return
    assert code == 0
    ds = datasets.load_from_disk(str(out))
    assert len(ds) > 0 and {"id", "text", "label"} <= set(ds.column_names)


# ---------------------------------------------------------------------- users
def test_users_lifecycle(proj: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.auth import Accounts

    assert main(["users", str(proj), "list"]) == 0
    assert "no accounts yet" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long passphrase\n"))
    assert main(["users", str(proj), "add", "dr_lee", "--role", "reviewer", "--password-stdin"]) == 0
    acc = Accounts(proj)
    assert acc.verify("dr_lee", "a long passphrase") == "reviewer"
    stored = b"".join(f.read_bytes() for f in (proj / "auth").rglob("*") if f.is_file())
    assert stored and b"a long passphrase" not in stored           # only a hash is kept
    assert main(["users", str(proj), "set-role", "dr_lee", "admin"]) == 0
    assert acc.role("dr_lee") == "admin"
    monkeypatch.setattr(sys, "stdin", io.StringIO("another passphrase\n"))
    assert main(["users", str(proj), "set-password", "dr_lee", "--password-stdin"]) == 0
    assert acc.verify("dr_lee", "another passphrase") == "admin"
    capsys.readouterr()
    assert main(["users", str(proj), "list", "--json"]) == 0
    users = json.loads(capsys.readouterr().out)
    assert [(u["username"], u["role"]) for u in users] == [("dr_lee", "admin")]
    assert not any("hash" in k for k in users[0])
    assert main(["users", str(proj), "remove", "dr_lee"]) == 0
    assert acc.role("dr_lee") is None


def test_users_add_asks_twice_on_a_terminal(proj: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.auth import Accounts

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    answers = iter(["a long passphrase", "a long passphrase", "one passphrase", "another one"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", str(proj), "add", "ann", "--role", "annotator"]) == 0
    assert Accounts(proj).verify("ann", "a long passphrase") == "annotator"
    assert main(["users", str(proj), "add", "bea", "--role", "annotator"]) == 2
    assert "The two passwords differ" in one_error_line(capsys.readouterr().err)
    assert Accounts(proj).role("bea") is None


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["add", "x_user", "--role", "reviewer"], "", "pass --password-stdin"),
        (["add", "x_user", "--role", "reviewer", "--password-stdin"], "\n", "read an empty line"),
        (["add", "x_user", "--role", "reviewer", "--password-stdin"], "short\n", "at least 8 characters"),
        (["set-password", "nobody", "--password-stdin"], "a long passphrase\n", "no account 'nobody'"),
        (["set-role", "nobody", "admin"], "", "must name an existing account"),
        (["remove", "nobody"], "", "nobody"),
    ],
)
def test_users_errors(proj: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                      args: list[str], stdin: str, expected: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a terminal: a script's standard input
    assert main(["users", str(proj), *args]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert expected in line and "Accounts." not in line


@pytest.mark.slow
def test_users_add_in_a_script(proj: Path) -> None:
    res = run("users", str(proj), "add", "dr_lee", "--role", "reviewer", "--password-stdin",
              stdin="a long passphrase\n")
    assert res.returncode == 0, res.stderr
    again = run("users", str(proj), "add", "DR_LEE", "--role", "reviewer", "--password-stdin",
                stdin="a long passphrase\n")
    assert again.returncode == 2 and "already exists" in one_error_line(again.stderr)


# ---------------------------------------------------------------------- serve
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--address", "0.0.0.0"], "Refusing to listen on '0.0.0.0': the project has no accounts"),
        (["--port", "70000"], "--port must be between 1 and 65535"),
        (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "nope.pem", "--tls-key", "nope.key"], "--tls-cert 'nope.pem': no such file"),
        (["--session-minutes", "0"], "--session-minutes must be a positive number"),
    ],
)
def test_serve_refuses_before_starting(proj: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                       expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a))  # a server would start here
    assert main(["serve", str(proj), *args]) == 2
    assert expected in one_error_line(capsys.readouterr().err)
    assert started == []  # refused before any server process


def test_serve_beyond_localhost_needs_tls_even_with_accounts(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.auth import Accounts

    Accounts(proj).add("dr_lee", "reviewer", "a long passphrase")
    assert main(["serve", str(proj), "--address", "0.0.0.0"]) == 2
    assert "without encryption" in one_error_line(capsys.readouterr().err)


def test_serve_without_accounts_says_how_to_add_one(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(proj)]) == 2
    assert f"workbench users {proj} add NAME --role reviewer" in one_error_line(capsys.readouterr().err)


def test_serve_of_a_missing_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(tmp_path / "none")]) == 2
    assert "There is no project" in one_error_line(capsys.readouterr().err)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_starts_the_reviewer_app(proj: Path) -> None:
    if not (REPO / "widgets" / "panel" / "serve.py").is_file():
        pytest.skip("widgets.panel.serve (the reviewer app's entry point) is not in this checkout yet")
    from workbench.auth import Accounts

    Accounts(proj).add("dr_lee", "reviewer", "a long passphrase")  # the reviewer app needs a login
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", str(proj), "--port", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"serve exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("the reviewer app did not listen within 60 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # stopping the command stops the server it started (no orphan keeps the port)
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"the reviewer app still listens on port {port} after workbench serve was terminated")


# ---------------------------------------------------------------------- report
def test_report_argument_errors(proj: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["--out", str(tmp_path / "r.html"), "--param", "seed=x"], "--param seed= takes an integer"),
        (["--out", str(tmp_path / "r.html"), "--param", "nope=1"], "--param nope: the report has no such parameter"),
        (["--out", str(tmp_path / "r.html"), "--param", "seed"], "--param takes NAME=VALUE"),
        (["--out", str(tmp_path / "r.txt")], "name the file with a .html suffix"),
        (["--out", str(tmp_path / "no" / "r.html")], "does not exist"),
        (["--out", str(tmp_path)], "is a directory"),
        (["--out", str(tmp_path / "r.html"), "--template", str(tmp_path / "none.ipynb")], "does not exist"),
        (["--out", str(tmp_path / "r.html"), "--timeout", "-1"], "--timeout must be a number of seconds > 0"),
    ]
    for args, expected in cases:
        assert main(["report", str(proj), *args]) == 2, args
        assert expected in one_error_line(capsys.readouterr().err), args
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_report_failing_cell_fails_the_command(proj: Path, tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    template = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[
        new_code_cell('project_path = ""', metadata={"tags": ["parameters"]}),
        new_code_cell("import workbench as wb\nproject = wb.Project.open(project_path)"),
        new_code_cell("ratio = len(project) / 0"),
    ]), str(template))
    out = tmp_path / "r.html"
    res = run("report", str(proj), "--out", str(out), "--template", str(template))
    assert res.returncode == 2
    line = one_error_line("\n".join(ln for ln in res.stderr.splitlines() if not ln.startswith("[IPKernelApp]")))
    assert "failed in cell 4 ('ratio = len(project) / 0'): ZeroDivisionError: division by zero" in line
    assert not out.exists()


@pytest.mark.slow
def test_report_command_with_an_lf_file(proj: Path, tmp_path: Path) -> None:
    lfs = tmp_path / "lfs.py"
    lfs.write_text("project.lfs.add(wb.lf.keywords('link', ['http'], label=1))\n"
                   "project.lfs.add(wb.lf.keywords('song', ['song'], label=0))\n", encoding="utf-8")
    out = tmp_path / "report.html"
    res = run("report", str(proj), "--out", str(out), "--param", f"lfs={lfs}", "--param", "seed=3",
              timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"wrote {out}")
    from workbench.report import read_report

    tables = read_report(out).tables
    lf_table = next(t for t in tables if "coverage" in t.columns and "polarity" in t.columns)
    assert set(lf_table.iloc[:, 0]) == {"link", "song"}
    comparison = next(t for t in tables if "evaluation" in t.columns)
    assert "auto" in set(comparison.iloc[:, 0])                  # live LFs: the default model, cross-fitted
    assert any(v.startswith("cross-fitted") for v in comparison["evaluation"])
    params = tables[-1].set_index(tables[-1].columns[0]).iloc[:, 0]
    assert params["seed"] == "3" and params["lfs"] == str(lfs)


def test_entry_point_is_installed() -> None:
    exe = Path(sys.executable).with_name("workbench")
    if not exe.is_file():
        pytest.skip("the console script is not installed in this environment (pip install -e .)")
    res = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60,
                         env={**os.environ})
    assert res.returncode == 0 and res.stdout.startswith("workbench ")


def test_cli_errors_name_commands_and_flags_not_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = tmp_path / "p"
    assert main(["init", str(proj), "--name", "spam", "--choices", "ham", "spam"]) == 0
    (tmp_path / "emptyid.csv").write_text("id,text\n,new\n")
    (tmp_path / "plain").mkdir()
    capsys.readouterr()
    cases = {
        ("init", str(proj), "--name", "spam", "--choices", "ham", "spam"): "Choose another path",
        ("info", str(tmp_path / "none")): "workbench init PATH --name QUESTION --choices A B",
        ("info", str(tmp_path / "plain")): "workbench init PATH --name QUESTION --choices A B",
        ("ingest", str(proj), str(tmp_path / "emptyid.csv"), "--id-column", "id"): "leave out --id-column",
    }
    for argv, hint in cases.items():
        assert main(list(argv)) == 2, argv
        err = capsys.readouterr().err
        assert hint in err, (argv, err)
        assert "wb." not in err and "exist_ok" not in err and "id_column" not in err, (argv, err)


def test_cli_status_says_what_it_could_not_compute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]}), id_column="id")
    p.annotate("a", "spam", annotator="ann")  # one annotator: no agreement to compute
    p.close()
    capsys.readouterr()
    assert main(["status", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "note      agreement: No item has answers from two annotators yet" in out


def test_cli_export_writes_a_column_of_mixed_types_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "n": [1, 2]}), id_column="id")
    (tmp_path / "more.csv").write_text("id,text,n\nc,z,3\n")  # a CSV is text: n is "3" here
    p.add_data(tmp_path / "more.csv", id_column="id")
    soft = pd.DataFrame({"p_ham": [1.0, 0.0, 1.0], "p_spam": [0.0, 1.0, 0.0], "label": ["ham", "spam", "ham"],
                         "confidence": 1.0, "weight": 1.0, "sources": "human"},
                        index=pd.Index(["a", "b", "c"], name="id"))
    p.versions.save(soft)
    p.close()
    capsys.readouterr()
    assert main(["export", str(tmp_path / "p"), "v1", "--out", str(tmp_path / "x.parquet")]) == 0
    assert "'n' hold numbers in some rows and text in others" in capsys.readouterr().out
    assert pd.read_parquet(tmp_path / "x.parquet")["n"].tolist() == ["1", "2", "3"]


def test_cli_verify_lists_unknown_files_and_history_says_when_there_is_none(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    p.add_data(pd.DataFrame({"id": ["a"], "text": ["x"]}), id_column="id")
    p.close()
    (tmp_path / "p" / "data" / "stray.parquet").write_bytes(b"")
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 1 examples") and "data/stray.parquet" in out
    assert main(["history", str(tmp_path / "p"), "a"]) == 0
    assert capsys.readouterr().out.strip() == "a: no label events yet"
