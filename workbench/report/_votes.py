"""The votes a label version's labeling functions cast, read back from the project's LF cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.exceptions import WorkbenchError

__all__ = ["RecordedVotes", "recorded_lf_votes"]


@dataclass(frozen=True)
class RecordedVotes:
    """The label matrix of the LFs a label version recorded, rebuilt from cached votes.

    Attributes
    ----------
    version : str or None
        The label version whose LFs these are (None when the project has no label version).
    question : str
        The question the LFs vote on.
    L : ndarray of int8, shape (n_examples, n_lfs)
        Votes, ``-1`` = abstain; rows follow ``project.examples()``, columns :attr:`names`.
    names : list of str
        The LFs whose votes were all found, in the version's order.
    missing : dict
        LF name -> the data versions whose votes are not in the cache (those LFs are left out
        of :attr:`L`; re-apply them, or pass the LF file to the report, to include them).
    fingerprints : dict
        LF name -> code fingerprint (what the cached votes are keyed on).
    """

    version: str | None
    question: str
    L: np.ndarray
    names: list[str]
    missing: dict[str, list[str]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)


def recorded_lf_votes(project: Any, version: str | None = None, *, question: str | None = None) -> RecordedVotes:
    """Rebuild the label matrix of a label version's LFs from the project's cached votes.

    Labeling functions are Python code that lives in a notebook or a module, so a fresh
    process (a report, a served app) has none registered. A label version's manifest records
    each LF's name and code fingerprint, and the project caches every LF's votes per
    (fingerprint, data version): together they give the votes exactly as that code cast
    them, without running any code (:meth:`workbench.lf.ProjectLFs.cached_votes` reads them).
    Votes are read for every data version of the project; an LF whose votes on some data
    version are not cached (never applied to it, or the cache was cleared) is listed in
    ``missing`` and left out.

    Parameters
    ----------
    project : Project
        An open project.
    version : str, optional
        The label version (``"v3"``); default: the newest one.
    question : str, optional
        The question (default: the first one).

    Returns
    -------
    RecordedVotes

    Raises
    ------
    WorkbenchError
        ``version`` is not a saved label version.

    Examples
    --------
    >>> from workbench.report import recorded_lf_votes
    >>> votes = recorded_lf_votes(project)              # doctest: +SKIP
    >>> votes.L.shape, votes.names                      # doctest: +SKIP
    ((1953, 10), ['keyword_my', ...])
    """
    q = project.schema.question(question) if question else project.schema.questions[0]
    n = len(project)
    names_known = project.versions.list()["name"].tolist()
    if version is None:
        if not names_known:
            return RecordedVotes(None, q.name, np.empty((n, 0), dtype=np.int8), [])
        version = str(names_known[-1])
    elif version not in names_known:
        raise WorkbenchError(
            f"There is no label version {version!r} in {str(project.path)!r}. Saved versions: {names_known!r}."
        )
    single = len(project.schema.questions) == 1
    records = [r for r in project.versions.manifest(version).get("lfs", [])
               if r.get("question") == q.name or (single and r.get("question") is None)]
    fingerprints = {str(r["name"]): str(r["fingerprint"]) for r in records}
    votes = project.lfs.cached_votes(fingerprints)
    return RecordedVotes(version, q.name, votes.L, votes.names, votes.missing, fingerprints)
