"""Simulated teams: how often drift is flagged for steady annotators, and how fast a real drop is caught.

Conditions (stated in the issue 9 fix): weekly windows, 8 weeks, yes/no honeypots, the
default test (one-sided Fisher exact, spans of 1 and 2 windows, Holm over the whole table
at alpha = 0.05). A *steady* annotator keeps one true accuracy throughout; a *drifter* is
right 90 % of the time for four weeks and 60 % from week 5 (index 4) on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.quality import annotator_drift

TIMELINE_START = pd.Timestamp("2026-01-05 09:00", tz="UTC")  # as in conftest.honeypot_timeline
WEEK = pd.Timedelta(days=7)
DROP_WEEK = 4


def steady_team(seed: int, n_annotators: int = 20, n_weeks: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.repeat(rng.uniform(0.7, 0.95, size=(n_annotators, 1)), n_weeks, axis=1)


def team_with_drifters(n_drifters: int, n_annotators: int = 20, n_weeks: int = 8) -> np.ndarray:
    acc = np.full((n_annotators, n_weeks), 0.85)
    acc[:n_drifters, :DROP_WEEK] = 0.90
    acc[:n_drifters, DROP_WEEK:] = 0.60
    return acc


def flagged(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["dropped"], "annotator"])


def false_alarms(make_timeline, n_teams: int, per_window: int, **params) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(share of steady annotators ever flagged, share of teams with any steady annotator flagged)."""
    ever, teams_hit, total = 0, 0, 0
    for seed in range(n_teams):
        ann, gold = make_timeline(seed, steady_team(seed), per_window)
        hit = flagged(annotator_drift(ann, gold, **params))
        ever += len(hit)
        teams_hit += bool(hit)
        total += 20
    return ever / total, teams_hit / n_teams


def detection(  # type: ignore[no-untyped-def]
    make_timeline, n_teams: int, per_window: int, windows_after: int, n_drifters: int = 4, **params
) -> tuple[float, float]:
    """(share of drifters flagged, share of steady annotators flagged) on the data up to the end of
    window DROP_WEEK + windows_after - 1, i.e. with `windows_after` windows since the drop."""
    cut = TIMELINE_START.floor("D") + (DROP_WEEK + windows_after) * WEEK
    caught, wrong = 0, 0
    for seed in range(n_teams):
        ann, gold = make_timeline(1000 + seed, team_with_drifters(n_drifters), per_window)
        hit = flagged(annotator_drift(ann[ann["created_at"] < cut], gold, **params))
        caught += sum(f"w{i:02d}" in hit for i in range(n_drifters))
        wrong += sum(f"w{i:02d}" in hit for i in range(n_drifters, 20))
    return caught / (n_teams * n_drifters), wrong / (n_teams * (20 - n_drifters))


def test_steady_annotators_are_rarely_flagged(make_timeline) -> None:  # type: ignore[no-untyped-def]
    """1000 steady annotators (50 teams of 20, accuracies 0.70-0.95), 15 honeypots a week for 8 weeks."""
    share, teams = false_alarms(make_timeline, n_teams=50, per_window=15)
    assert share <= 0.05
    assert teams <= 0.1  # family-wise over the team: at most alpha = 0.05 in expectation, here 50 teams
    share_per_annotator, _ = false_alarms(make_timeline, n_teams=50, per_window=15, family="annotator")
    assert share_per_annotator <= 0.05


def test_a_drop_from_090_to_060_is_flagged_within_two_windows(make_timeline) -> None:  # type: ignore[no-untyped-def]
    """30 honeypots a week: 100 drifters (25 teams of 20 with 4 drifters), data up to one window after the drop."""
    caught, wrong = detection(make_timeline, n_teams=25, per_window=30, windows_after=2)
    assert caught >= 0.8  # default: Holm over the whole team's table (measured 0.87)
    assert wrong <= 0.05
    caught, wrong = detection(make_timeline, n_teams=25, per_window=30, windows_after=2, family="annotator")
    assert caught >= 0.9  # per-annotator correction: more power (measured 0.97)
    assert wrong <= 0.05


def test_a_lone_drifter_is_flagged_at_the_drop_and_dated_to_it(make_timeline) -> None:  # type: ignore[no-untyped-def]
    """One annotator, 30 honeypots a week, all 8 weeks analysed: the first flagged window is the drop week
    or the next, and ``drop_since`` names the drop week."""
    acc = team_with_drifters(1, n_annotators=1)
    drop = TIMELINE_START.floor("D") + DROP_WEEK * WEEK
    in_time, dated = 0, 0
    for seed in range(40):
        ann, gold = make_timeline(seed, acc, 30)
        hits = annotator_drift(ann, gold).query("dropped")
        in_time += bool(len(hits)) and hits["window_start"].min() <= drop + WEEK
        dated += bool(len(hits)) and hits["drop_since"].min() == drop
    assert in_time >= 0.85 * 40
    assert dated >= 0.8 * 40


@pytest.mark.slow
@pytest.mark.parametrize(
    ("per_window", "family", "min_caught"),
    # measured (data up to one window after the drop, 200 drifters): 0.37, 0.58, 0.89 / 0.77, 0.81, 0.98
    [(15, "all", 0.25), (20, "all", 0.47), (30, "all", 0.8), (15, "annotator", 0.65), (20, "annotator", 0.72),
     (30, "annotator", 0.93)],
)
def test_detection_and_false_alarms_over_honeypot_counts(make_timeline, per_window, family, min_caught) -> None:  # type: ignore[no-untyped-def]
    share, teams = false_alarms(make_timeline, n_teams=100, per_window=per_window, family=family)
    assert share <= 0.05
    if family == "all":
        assert teams <= 0.08
    caught, wrong = detection(make_timeline, n_teams=50, per_window=per_window, windows_after=2, family=family)
    assert caught >= min_caught
    assert wrong <= 0.05
