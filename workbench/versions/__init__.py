"""Immutable soft-label versions: save, list, load, verify, diff, and link to training runs.

A version is a folder ``<project>/labels/v<N>/`` holding ``labels.parquet``, a JSON
``manifest.json`` with the full provenance and hashes, and ``SHA256SUMS``. It is written once,
made read-only and verified on every load. The format is documented in
:mod:`workbench.versions._format` so that a version can be checked years later with
``hashlib``, ``json``, ``struct`` and ``pyarrow`` alone (see :func:`verify_label_version`).
"""

from workbench.versions._format import CANONICAL_ALGORITHM, FORMAT, FORMAT_VERSION, canonical_hash, verify_label_version
from workbench.versions._project import LABELS_DIR, ProjectVersions
from workbench.versions._store import LATEST, LabelVersion, LabelVersionStore
from workbench.versions._validate import PROB_TOLERANCE

__all__ = [
    "CANONICAL_ALGORITHM",
    "FORMAT",
    "FORMAT_VERSION",
    "LABELS_DIR",
    "LATEST",
    "ProjectVersions",
    "PROB_TOLERANCE",
    "LabelVersion",
    "LabelVersionStore",
    "canonical_hash",
    "verify_label_version",
]
