"""The live LF dashboard, driven headless from Python (STYLE practice 11)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from widgets.jupyter import LFDashboard
from workbench.lf import keywords, labeling_function, regex

HAM, SPAM = 0, 1
REPO = Path(__file__).resolve().parents[2]


def table_rows(dashboard: LFDashboard) -> dict[str, dict[str, str]]:
    """{lf: {column: text}} parsed from the summary table's HTML."""
    out: dict[str, dict[str, str]] = {}
    for name, body in re.findall(r'<tr data-lf="([^"]*)"[^>]*>(.*?)</tr>', dashboard.summary_table.value):
        out[name] = dict(re.findall(r'<td class="wb-col-([a-z]+)">(.*?)</td>', body))
    return out


def row_order(dashboard: LFDashboard) -> list[str]:
    return re.findall(r'<tr data-lf="([^"]*)"', dashboard.summary_table.value)


@labeling_function()
def lower_check(x):  # raises on the row whose text is None
    return SPAM if "check" in x.text.lower() else wb.ABSTAIN


def test_empty_project_then_live_updates(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    assert "No labeling functions yet" in dashboard.summary_table.value
    assert dashboard.project.n_listeners() == 3

    small_project.lfs.add(keywords("kw", ["song"], label=HAM))  # in "another cell": no call on the dashboard
    assert table_rows(dashboard)["kw"]["coverage"] == "30.0%"
    assert table_rows(dashboard)["kw"]["polarity"] == "ham"
    assert dashboard.summary.loc["kw", "n_votes"] == 3

    small_project.lfs.add(regex("link", r"https?://", label=SPAM))
    assert set(table_rows(dashboard)) == {"kw", "link"}
    assert "wb-overall-coverage\">50.0%" in dashboard.status.value  # rows 1, 2, 5, 7, 8

    # Re-registering under the same name replaces it; only that LF is recomputed.
    small_project.lfs.add(keywords("kw", ["song", "video"], label=HAM))
    assert table_rows(dashboard)["kw"]["coverage"] == "40.0%"
    assert dashboard.last_result is not None
    assert dashboard.last_result.computed == {"kw": ["d1"], "link": []}
    assert "recomputed: kw" in dashboard.status.value
    assert table_rows(dashboard)["link"]["run"] == "cached"

    small_project.lfs.remove("kw")
    assert set(table_rows(dashboard)) == {"link"}
    dashboard.close()


def test_identical_re_registration_does_not_refresh(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    small_project.lfs.add(keywords("kw", ["song"], label=HAM))
    before = dashboard.n_refreshes
    small_project.lfs.add(keywords("kw", ["song"], label=HAM))
    assert dashboard.n_refreshes == before
    dashboard.close()


def test_an_lf_that_raises_shows_in_the_error_pane(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    small_project.lfs.add(lower_check)
    pane = dashboard.errors.value
    assert 'data-lf="lower_check"' in pane
    assert 'wb-error-count">1<' in pane
    assert "AttributeError" in pane and "t-06" in pane and "traceback" in pane
    assert table_rows(dashboard)["lower_check"]["errors"] == "1"
    assert "1 LF(s) raised" in dashboard.status.value
    # the other rows were still labelled
    assert table_rows(dashboard)["lower_check"]["coverage"] == "20.0%"
    small_project.lfs.remove("lower_check")
    assert "No LF raised" in dashboard.errors.value
    dashboard.close()


def test_drilldown_escapes_html_and_limits_rows(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project, max_examples=2)
    small_project.lfs.add(keywords("check", ["check"], label=SPAM))
    small_project.lfs.add(keywords("my", ["my"], label=SPAM))
    ids = dashboard.show_rows("check", "fires")
    assert ids == ["t-01", "t-04"]
    html_out = dashboard.drilldown.examples.value
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html_out
    assert "<script>" not in html_out
    assert dashboard.show_rows("my", "fires") == ["t-01", "t-03"]
    assert dashboard.drilldown.n_matching == 5
    assert "5 row(s) where my votes" in dashboard.drilldown.examples.value
    dashboard.close()


def _pager(dashboard: LFDashboard) -> tuple[str, str, bool]:
    d = dashboard.drilldown
    count = re.sub(r"<[^>]+>", "", d.count.value)
    return count, d.more.description, d.more.layout.display != "none"


def test_drilldown_pages_with_load_more_and_a_count(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project, max_examples=2)
    small_project.lfs.add(keywords("my", ["my"], label=SPAM))  # votes on 5 of the 10 rows
    fires = ["t-01", "t-03", "t-04", "t-05", "t-08"]  # the fixture's texts with the word "my"
    assert dashboard.show_rows("my", "fires") == fires[:2]
    assert _pager(dashboard) == ("2 of 5", "load 2 more", True)
    dashboard.drilldown.more.click()  # the button, as a user would
    assert dashboard.drilldown.shown_ids == fires[:4]
    assert _pager(dashboard) == ("4 of 5", "load 1 more", True)
    assert dashboard.load_more() == fires  # the last page holds one row; then nothing is left to load
    assert _pager(dashboard) == ("5 of 5", "load more", False)
    assert dashboard.load_more() == fires
    # Every shown row is in the table, once.
    assert re.findall(r'<tr data-id="([^"]+)"', dashboard.drilldown.examples.value) == fires
    # Another LF or mode starts from the first page again; a refresh keeps the page.
    small_project.lfs.add(keywords("check", ["check"], label=SPAM))
    assert dashboard.drilldown.shown_ids == fires  # still "my", all pages
    dashboard.show_rows("check", "fires")
    assert _pager(dashboard) == ("2 of 2", "load more", False)
    dashboard.drilldown.lf.value = "my"
    assert dashboard.drilldown.shown_ids == fires[:2]
    dashboard.close()


def test_drilldown_conflicts_and_gold(small_project: wb.Project, small_gold: pd.Series) -> None:
    dashboard = LFDashboard(small_project, gold=small_gold)
    small_project.lfs.add(keywords("song", ["song"], label=HAM))
    small_project.lfs.add(keywords("my", ["my"], label=SPAM))
    # the most conflicting other LF is picked for the conflict view
    assert dashboard.show_rows("song", "conflicts") == ["t-05", "t-08"]
    assert dashboard.drilldown.other.value == "my"
    assert dashboard.show_rows("my", "wrong") == ["t-05", "t-08"]
    text = dashboard.drilldown.examples.value
    assert '<td class="wb-col-gold">ham</td>' in text and '<td class="wb-col-vote">spam</td>' in text
    # the widgets themselves drive it too
    dashboard.drilldown.lf.value = "song"
    dashboard.drilldown.mode.value = "fires"
    assert dashboard.drilldown.shown_ids == ["t-02", "t-05", "t-08"]
    rows = table_rows(dashboard)
    assert rows["my"]["incorrect"] == "2" and rows["my"]["correct"] == "3"
    assert rows["my"]["accuracy"].startswith("60.0% [")
    expected = small_project.lfs.summary(gold=small_gold)
    pd.testing.assert_frame_equal(dashboard.summary, expected)
    dashboard.close()


def test_the_projects_gold_is_followed_as_it_grows(small_project: wb.Project, small_gold: pd.Series) -> None:
    small_project.lfs.add(keywords("my", ["my"], label=SPAM))
    small_project.add_gold(small_gold.iloc[:5].rename("label").rename_axis("id").reset_index(), id_column="id",
                           label_column="label")
    dashboard = LFDashboard(small_project, gold="gold")
    before = dashboard.summary.loc["my", ["correct", "incorrect"]].tolist()
    small_project.add_gold(small_gold.iloc[5:].rename("label").rename_axis("id").reset_index(), id_column="id",
                           label_column="label")
    expected = small_project.lfs.summary(gold="gold")
    assert dashboard.summary.loc["my", ["correct", "incorrect"]].tolist() == expected.loc[
        "my", ["correct", "incorrect"]].tolist() != before
    assert dashboard.show_rows("my", "wrong") == ["t-05", "t-08"]
    small_project.annotate("t-01", "spam", annotator="alice")  # not gold: no refresh needed
    dashboard.close()


def test_wrong_mode_is_offered_only_with_gold(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    assert [v for _, v in dashboard.drilldown.mode.options] == ["fires", "conflicts"]
    small_project.lfs.add(keywords("song", ["song"], label=HAM))
    with pytest.raises(ValueError, match="'mode' parameter of show_rows must be one of"):
        dashboard.show_rows("song", "wrong")
    with pytest.raises(wb.WorkbenchError, match="No labeling function named 'nope'"):
        dashboard.show_rows("nope")
    dashboard.close()


def test_sorting_reorders_the_table(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    for name, words in (("b_rare", ["gift"]), ("a_common", ["my"]), ("c_mid", ["song"])):
        small_project.lfs.add(keywords(name, words, label=SPAM))
    assert row_order(dashboard) == ["b_rare", "a_common", "c_mid"]
    dashboard.sort_by.value = "coverage"
    dashboard.sort_descending.value = True
    assert row_order(dashboard) == ["a_common", "c_mid", "b_rare"]
    dashboard.sort_by.value = "lf"
    dashboard.sort_descending.value = False
    assert row_order(dashboard) == ["a_common", "b_rare", "c_mid"]
    dashboard.close()


def test_charts_pane_holds_the_altair_chart(small_project: wb.Project, small_gold: pd.Series) -> None:
    dashboard = LFDashboard(small_project, gold=small_gold)
    assert dashboard.charts.outputs == ()
    small_project.lfs.add(keywords("song", ["song"], label=HAM))
    small_project.lfs.add(keywords("my", ["my"], label=SPAM))
    (output,) = dashboard.charts.outputs
    assert output["output_type"] == "display_data"
    assert set(output["data"]) == {"application/vnd.vegalite.v5+json", "text/plain"}  # JupyterLab draws it offline
    assert output["data"]["application/vnd.vegalite.v5+json"]["vconcat"]
    spec = dashboard.chart.to_dict()  # valid Vega-Lite
    assert "vconcat" in spec
    dashboard.close()


def test_external_apply_refreshes_only_on_news(small_project: wb.Project) -> None:
    small_project.lfs.add(keywords("song", ["song"], label=HAM))
    dashboard = LFDashboard(small_project)
    before = dashboard.n_refreshes
    small_project.lfs.apply()  # nothing changed since the dashboard drew itself
    assert dashboard.n_refreshes == before
    # new data is news: the LFs run on it and the dashboard redraws, once
    small_project.add_data(pd.DataFrame({"id": ["n-1"], "text": ["another song"]}), id_column="id")
    assert dashboard.n_refreshes == before + 1
    assert dashboard.summary is not None and dashboard.summary.loc["song", "n_votes"] == 4
    small_project.lfs.apply()
    assert dashboard.n_refreshes == before + 1
    dashboard.close()


def test_one_refresh_is_one_apply_and_two_dashboards_coexist(small_project: wb.Project) -> None:
    applies: list[object] = []
    probe = small_project.on("lfs_applied", lambda result: applies.append(result))
    first, second = LFDashboard(small_project), LFDashboard(small_project)
    applies.clear()
    small_project.lfs.add(keywords("song", ["song"], label=HAM))
    # first refreshes (one apply), which makes second refresh (one more apply); nothing loops
    assert len(applies) == 2
    assert table_rows(first) == table_rows(second) and "song" in table_rows(first)
    assert "recomputed: song" in first.status.value and "recomputed: song" in second.status.value
    small_project.lfs.add(keywords("never", ["zzz-no-such-word"], label=SPAM))  # an LF that never votes
    assert table_rows(second)["never"]["coverage"] == "0.0%"
    first.close()
    second.close()
    probe.disconnect()
    assert small_project.n_listeners() == 0


def test_hold_refresh_batches_registrations(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    before = dashboard.n_refreshes
    with dashboard.hold_refresh():
        for k, word in enumerate(["song", "my", "check"]):
            small_project.lfs.add(keywords(f"kw{k}", [word], label=SPAM))
        assert dashboard.n_refreshes == before
    assert dashboard.n_refreshes == before + 1
    assert set(table_rows(dashboard)) == {"kw0", "kw1", "kw2"}
    dashboard.close()


def test_a_bad_lf_output_is_reported_not_raised(small_project: wb.Project) -> None:
    dashboard = LFDashboard(small_project)
    small_project.lfs.add(keywords("ok", ["song"], label=HAM))

    @labeling_function()
    def seven(x):
        # valid on the data it was registered on (an LF invalid there is refused by lfs.add), but it
        # returns 7, not a choice of a 2-class question, on a text that arrives later
        return 7 if "seven" in str(x.text) else -1

    small_project.lfs.add(seven)
    assert dashboard.last_error is None and set(table_rows(dashboard)) == {"ok", "seven"}
    # the user's cell does not fail because of the dashboard
    small_project.add_data(pd.DataFrame({"id": ["n1"], "text": ["seven seas"]}), id_column="id")
    assert "could not refresh" in dashboard.status.value
    assert dashboard.last_error is not None and "seven" in dashboard.last_error
    assert set(table_rows(dashboard)) == {"ok", "seven"}  # the last good state stays on screen
    small_project.lfs.remove("seven")
    assert dashboard.last_error is None and "could not refresh" not in dashboard.status.value
    dashboard.close()


def test_close_disconnects_every_subscription(small_project: wb.Project) -> None:
    assert small_project.n_listeners() == 0
    dashboards = [LFDashboard(small_project), LFDashboard(small_project)]
    assert small_project.n_listeners() == 6
    for d in dashboards:
        d.close()
    assert small_project.n_listeners() == 0
    assert dashboards[0].subscriptions == []
    n = dashboards[0].n_refreshes
    small_project.lfs.add(keywords("song", ["song"], label=HAM))
    assert dashboards[0].n_refreshes == n
    dashboards[0].close()  # twice is harmless


def test_constructor_validates_its_arguments(small_project: wb.Project) -> None:
    with pytest.raises(TypeError, match="'project' parameter of LFDashboard must be a workbench.Project"):
        LFDashboard("not a project")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'max_examples' parameter of LFDashboard must be a positive int"):
        LFDashboard(small_project, max_examples=0)
    assert small_project.n_listeners() == 0


def test_named_sub_widgets(small_project: wb.Project) -> None:
    import ipywidgets as widgets

    dashboard = LFDashboard(small_project)
    for name, kind in (("summary_table", widgets.HTML), ("charts", widgets.Output), ("errors", widgets.HTML),
                       ("status", widgets.HTML), ("sort_by", widgets.Dropdown), ("drilldown", widgets.VBox)):
        assert isinstance(getattr(dashboard, name), kind), name
        assert name in (LFDashboard.__doc__ or "")  # documented
    for name in ("lf", "mode", "other"):
        assert isinstance(getattr(dashboard.drilldown, name), widgets.Dropdown)
    dashboard.close()


def test_missing_extra_names_the_install_command() -> None:
    code = (
        "import sys; sys.modules['altair'] = None\n"
        "try:\n    import widgets.jupyter\nexcept ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "OptionalDependencyError" in out.stdout
    assert "pip install labeling-workbench[jupyter]" in out.stdout and "altair" in out.stdout


@pytest.mark.data
def test_youtube_dashboard_recomputes_only_the_edited_lf(tmp_path: Path, data_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data_dir))
    data = wb.datasets.load_youtube_spam()
    project = wb.Project.create(tmp_path / "yt", schema=wb.Schema.single("spam", ["ham", "spam"]))
    project.add_data(data[["id", "author", "text", "video"]], id_column="id")
    gold = data.set_index("id")["label"]
    dashboard = LFDashboard(project, gold=gold)
    for name, words, label in (("kw_my", ["my"], SPAM), ("kw_subscribe", ["subscribe"], SPAM),
                               ("kw_please", ["please", "plz"], SPAM), ("kw_song", ["song"], HAM),
                               ("kw_check", ["check out"], SPAM)):
        project.lfs.add(keywords(name, words, label=label))
    project.lfs.add(regex("link", r"https?://", label=SPAM))
    for words in (["my "], ["my channel"], ["my"]):
        project.lfs.add(keywords("kw_my", words, label=SPAM))  # edit one LF "in another cell"
        result = dashboard.last_result
        assert result is not None
        # only the edited LF is computed; going back to ["my"] is served from the on-disk cache
        assert {n: v for n, v in result.computed.items() if v} == ({} if words == ["my"] else {"kw_my": ["d1"]})
    assert len(table_rows(dashboard)) == 6
    acc = dashboard.summary.loc["link", "emp_acc"]
    assert acc > 0.9  # links are nearly always spam in this dataset
    dashboard.close()
    assert project.n_listeners() == 0
    project.close()


def test_the_status_says_which_lfs_are_volatile(small_project) -> None:
    from widgets import LFDashboard

    namespace: dict = {}
    exec(  # a function with no source file: its code cannot be fingerprinted
        "def shouty(x):\n    return 1 if str(x.text).isupper() else -1\n", namespace)
    small_project.lfs.add(wb.lf.labeling_function(name="shouty")(namespace["shouty"]))
    dashboard = LFDashboard(small_project)
    assert "volatile" in dashboard.status.value and "shouty" in dashboard.status.value
    assert bool(small_project.lfs.summary().loc["shouty", "volatile"])
    dashboard.close()


def test_with_gold_the_charts_include_a_reliability_diagram(small_project, small_gold) -> None:
    from widgets import LFDashboard

    small_project.lfs.add(wb.lf.keywords("sub", ["subscribe"], label=1))
    small_project.lfs.add(wb.lf.keywords("song", ["song", "love"], label=0))
    dashboard = LFDashboard(small_project, gold=small_gold)
    rel = dashboard.reliability
    assert rel is not None and rel.attrs["evaluation"] == "unsupervised (gold not used)"
    assert int(rel["n"].sum()) == rel.attrs["n_gold"] > 0
    assert "mean_confidence" in str(dashboard.chart.to_dict())  # the diagram is among the charts
    dashboard.close()
    assert LFDashboard(small_project).reliability is None  # no gold, no diagram
