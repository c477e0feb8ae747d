"""Reproducible reports: a parameterised notebook executed over a project, written as self-contained HTML.

:func:`build_report` (the ``workbench report`` command) runs :data:`DEFAULT_TEMPLATE` or your
own notebook with nbclient and exports it with nbconvert; :func:`read_report` reads the tables
and charts back (to compare two runs). :func:`project_summary` is what ``workbench status``
prints; :func:`recorded_lf_votes` rebuilds a label version's LF votes from the cache;
:func:`learning_curve_from_runs` is the learning curve the training runs recorded.

Examples
--------
>>> from workbench.report import build_report, read_report               # doctest: +SKIP
>>> build_report("projects/spam", "report.html", params={"seed": 0})      # doctest: +SKIP
>>> read_report("report.html").tables[0]                                  # doctest: +SKIP
"""

from workbench.report._report import (
    DEFAULT_TEMPLATE,
    Report,
    ReportContents,
    ReportError,
    build_report,
    convert_param,
    read_report,
    template_parameters,
)
from workbench.report._summary import learning_curve_from_runs, project_summary
from workbench.report._votes import RecordedVotes, recorded_lf_votes

__all__ = [
    "DEFAULT_TEMPLATE",
    "RecordedVotes",
    "Report",
    "ReportContents",
    "ReportError",
    "build_report",
    "convert_param",
    "learning_curve_from_runs",
    "project_summary",
    "read_report",
    "recorded_lf_votes",
    "template_parameters",
]
