"""project.lfs.cached_votes: the votes the LF cache holds for given LFs over the project's rows, and what it lacks."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.lf import CachedVotes, keywords, regex

SPAM, HAM = 1, 0


def two_batches(project: wb.Project) -> None:
    """The shared 6 comments are d1; four more comments are d2."""
    more = pd.DataFrame({"id": ["m-1", "m-2", "m-3", "m-4"],
                         "text": ["my channel rocks", "song of the year", "http://spam.example", "meh"]})
    project.add_data(more, id_column="id")


def register(project: wb.Project) -> list[Any]:
    return [project.lfs.add(keywords("channel", ["channel"], label=SPAM)),
            project.lfs.add(regex("link", r"https?://", label=SPAM)),
            project.lfs.add(keywords("song", ["song"], label=HAM))]


def test_cached_votes_equal_the_applied_matrix_in_every_way_of_naming_an_lf(project: wb.Project) -> None:
    two_batches(project)
    lfs = register(project)
    L = project.lfs.matrix()
    by_name = project.lfs.cached_votes(["channel", "link", "song"])
    assert isinstance(by_name, CachedVotes) and by_name.complete and by_name.missing == {}
    assert by_name.names == ["channel", "link", "song"] and by_name.L.dtype == np.int8
    np.testing.assert_array_equal(by_name.L, L)
    assert list(by_name.row_ids) == list(project.examples().index)
    assert by_name.data_versions == ["d1", "d2"]
    assert by_name.fingerprints == {lf.name: lf.fingerprint for lf in lfs}
    # an LF object, a mapping {name: fingerprint} and a bare fingerprint give the same columns
    by_object = project.lfs.cached_votes(lfs)
    by_mapping = project.lfs.cached_votes({"a": lfs[2].fingerprint, "b": lfs[0].fingerprint})
    by_fp = project.lfs.cached_votes(lfs[1].fingerprint)
    np.testing.assert_array_equal(by_object.L, L)
    assert by_mapping.names == ["a", "b"]
    np.testing.assert_array_equal(by_mapping.L, L[:, [2, 0]])
    assert by_fp.names == [lfs[1].fingerprint]
    np.testing.assert_array_equal(by_fp.L[:, 0], L[:, 1])
    frame = project.lfs.cached_votes("song").to_frame()
    assert frame.loc["c-2", "song"] == HAM and frame.loc["m-2", "song"] == HAM and frame.loc["c-1", "song"] == -1


def test_nothing_is_computed_and_what_is_not_cached_is_missing(project: wb.Project) -> None:
    lfs = register(project)
    never = project.lfs.cached_votes(["channel", "song"])
    assert never.names == [] and never.L.shape == (6, 0)
    assert never.missing == {"channel": ["d1"], "song": ["d1"]} and not never.complete
    assert project.lfs.cached_votes("channel").missing == {"channel": ["d1"]}  # still nothing: it did not apply
    project.lfs.apply(progress=False)
    two_batches(project)  # a new data version the LFs have not seen yet
    votes = project.lfs.cached_votes(lfs)
    assert votes.names == [] and votes.missing == {n: ["d2"] for n in ("channel", "link", "song")}
    only_d1 = project.lfs.cached_votes(lfs, data_versions="d1")
    assert only_d1.complete and only_d1.L.shape == (6, 3) and list(only_d1.row_ids) == [f"c-{i}" for i in range(1, 7)]


def test_data_versions_choose_rows_in_project_order(project: wb.Project) -> None:
    two_batches(project)
    register(project)
    L = project.lfs.matrix()
    both = project.lfs.cached_votes("link", data_versions=["d2", "d1"])
    assert both.data_versions == ["d1", "d2"]
    np.testing.assert_array_equal(both.L[:, 0], L[:, 1])
    d2 = project.lfs.cached_votes("link", data_versions=["d2"])
    assert list(d2.row_ids) == ["m-1", "m-2", "m-3", "m-4"]
    assert d2.L[:, 0].tolist() == [-1, -1, SPAM, -1]


def test_votes_of_an_older_version_of_an_lf_stay_readable_by_fingerprint(project: wb.Project) -> None:
    old = project.lfs.add(keywords("kw", ["channel"], label=SPAM))
    old_votes = project.lfs.matrix()[:, 0].copy()
    new = project.lfs.add(keywords("kw", ["song"], label=HAM))  # edited: a new fingerprint, not applied yet
    assert project.lfs.cached_votes("kw").missing == {"kw": ["d1"]}
    again = project.lfs.cached_votes({"kw@old": old.fingerprint})
    np.testing.assert_array_equal(again.L[:, 0], old_votes)
    project.lfs.apply(progress=False)
    np.testing.assert_array_equal(project.lfs.cached_votes(new).L[:, 0], project.lfs.matrix()[:, 0])


def test_a_fresh_process_reads_votes_by_fingerprint_and_damaged_entries_are_missing(project: wb.Project) -> None:
    two_batches(project)
    lfs = register(project)
    L = project.lfs.matrix()
    prints = {lf.name: lf.fingerprint for lf in lfs}
    path = project.path
    project.close()
    with wb.Project.open(path) as fresh:  # no LF registered in this process
        assert len(fresh.lfs) == 0
        np.testing.assert_array_equal(fresh.lfs.cached_votes(prints).L, L)
    # damage the cached votes of "link" on d2: they are missing, never other votes, and no warning is raised
    cache = Path(path) / "lf_cache"
    npy = cache / f"{prints['link']}-d2.npy"
    assert npy.is_file()
    np.save(npy, np.zeros(3, dtype=np.int8))  # wrong length for d2's 4 rows
    with wb.Project.open(path) as fresh, warnings.catch_warnings():
        warnings.simplefilter("error")
        votes = fresh.lfs.cached_votes(prints)
        assert votes.names == ["channel", "song"] and votes.missing == {"link": ["d2"]}
        np.testing.assert_array_equal(votes.L, L[:, [0, 2]])


def test_an_empty_project_has_no_rows_and_nothing_missing(tmp_path: Path, spam_schema: wb.Schema) -> None:
    with wb.Project.create(tmp_path / "empty", schema=spam_schema) as p:
        lf = p.lfs.add(keywords("kw", ["x"], label=SPAM))
        votes = p.lfs.cached_votes("kw")
        assert votes.names == ["kw"] and votes.L.shape == (0, 1) and votes.data_versions == [] and votes.complete
        assert votes.fingerprints == {"kw": lf.fingerprint}


FP = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lfs": "nope"}, wb.LFError, r"'lfs' parameter of project.lfs.cached_votes names 'nope', which is neither a "
                                      r"registered labeling function nor a code fingerprint; registered: \['channel'"),
        ({"lfs": 7}, wb.LFError, r"must be an LF name, an LF, a fingerprint, a list of them or a mapping "
                                 r"\{name: fingerprint\}. Got int instead"),
        ({"lfs": ["channel", 3]}, wb.LFError, r"holds 3 \(int\); expected LF names, LFs or fingerprints"),
        ({"lfs": ["channel", "channel"]}, wb.LFError, r"names 'channel' twice; name each LF once"),
        ({"lfs": {"kw": "abc"}}, wb.LFError, r"maps 'kw' to 'abc', which is not a code fingerprint \(24 lower-case "
                                             r"hex digits\)"),
        ({"lfs": {"kw": FP.upper()}}, wb.LFError, r"which is not a code fingerprint"),
        ({"lfs": {3: FP}}, wb.LFError, r"must have LF names as keys. Got 3 instead"),
        ({"lfs": "channel", "data_versions": "d9"}, wb.DataError,
         r"'data_versions' parameter of project.lfs.cached_votes names 'd9', which is not a data version of this "
         r"project; known: \['d1'\]. Pass some of those, or None for all"),
        ({"lfs": "channel", "data_versions": ["d1", "d1"]}, wb.DataError, r"names 'd1' twice"),
        ({"lfs": "channel", "data_versions": 1}, wb.DataError,
         r"must be a data version name or a list of them \(see project.data_versions\(\)\). Got 1 instead"),
    ],
)
def test_cached_votes_errors(project: wb.Project, kwargs: dict[str, Any], error: type, match: str) -> None:
    project.lfs.add(keywords("channel", ["channel"], label=SPAM))
    with pytest.raises(error, match=match) as info:
        project.lfs.cached_votes(**kwargs)
    assert "Pass" in str(info.value) or "name each" in str(info.value)  # every message says how to fix it


def test_engine_lookup_refuses_what_is_not_a_fingerprint(project: wb.Project) -> None:
    with pytest.raises(wb.LFError, match=re.escape("'fingerprint' parameter of LFEngine.cached must be an LF code "
                                                   "fingerprint (24 lower-case hex digits")):
        project.lfs.engine.cached("../../etc/passwd", "d1", 6)
    assert project.lfs.engine.cached(FP, "d1", 6) is None
