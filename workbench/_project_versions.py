"""The label-version part of :class:`workbench.Project`: immutable soft-label versions with lineage."""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench._project_base import ProjectParts
from workbench._project_models import soft_label_columns
from workbench.exceptions import WorkbenchError

if TYPE_CHECKING:
    from workbench.versions import LabelVersion, LabelVersionStore

__all__ = ["VersionsMixin"]


class VersionsMixin(ProjectParts):
    """Save, list, load, diff and train from immutable soft-label versions."""

    @property
    def _versions(self) -> LabelVersionStore:
        from workbench.versions import LabelVersionStore

        store = self._extensions.get("label_versions")
        if store is None:
            store = LabelVersionStore(self.path / "labels", self._store)
            self._extensions["label_versions"] = store
        return store

    def save_labels(
        self,
        soft: pd.DataFrame,
        *,
        message: str = "",
        author: str | None = None,
        parent: str | None = "latest",
        gold: Any = None,
    ) -> LabelVersion:
        """Write soft labels as a new immutable label version (Parquet + JSON manifest).

        The manifest records the parent version, the data, schema and guideline versions,
        every registered LF (name, kind, code fingerprint, source text), the label model
        (class, parameters, learned weights), metrics on gold when known, counts per source,
        author, time and message, and content hashes checked on every load.

        Parameters
        ----------
        soft : DataFrame
            Usually :meth:`soft_labels`' output.
        message : str
            Why this version exists.
        author : str, optional
            Default: the operating-system user.
        parent : str or None, default "latest"
            The version this one derives from.
        gold : "gold", column name or Series, optional
            Gold labels to score the version against (stored in the manifest's ``metrics``).
        """
        from workbench._project_lf import lf_source

        author = author or _user()
        model_info = self._label_model_info(soft.attrs.get("model"))
        lfs = [
            {"name": lf.name, "kind": getattr(lf, "kind", type(lf).__name__), "question": lf.question,
             "fingerprint": lf.fingerprint, "source": lf_source(lf), "repr": repr(lf)}
            for lf in self.lfs
        ]
        dv = self.data_versions()
        manifest: dict[str, Any] = {
            "questions": {q.name: list(q.choices) for q in self.schema.questions},
            "data_version": str(dv["version"].iloc[-1]) if len(dv) else None,
            "data_versions": {str(v): str(h) for v, h in zip(dv["version"], dv["content_hash"], strict=True)},
            "schema_version": self.schema_version,
            "guideline_version": self.guideline_version,
            "schema": self.schema.to_dict(),
            "lfs": lfs,
            "label_model": model_info,
        }
        if gold is not None:
            manifest["metrics"] = self._version_metrics(soft, gold)
        version = self._versions.save(soft, manifest=manifest, parent=parent, author=author, message=message)
        self.events.emit("label_version_saved", version=version)
        return version

    def _version_metrics(self, soft: pd.DataFrame, gold: Any) -> dict[str, Any]:
        """Scores of the version against ``gold``, honestly: gold rows that the version itself took from
        gold are left out (they would score themselves), and gold rows the version does not cover
        are counted (``n_gold_uncovered``) and scored as wrong in ``accuracy_all``."""
        from workbench.models import evaluate

        out: dict[str, Any] = {}
        from_gold = soft["sources"].astype(str).str.contains("gold") if "sources" in soft.columns else None
        for q in self.schema.questions:
            y_all = pd.Series(self.gold_labels(gold, q.name), index=self._example_index())
            y_all = y_all[y_all >= 0]
            if from_gold is not None:
                y_all = y_all.drop(index=[i for i in soft.index[from_gold.to_numpy()] if i in y_all.index])
            if y_all.empty:
                continue
            sub = soft[soft_label_columns(self.schema)[q.name]].dropna()
            covered = y_all.index.intersection(sub.index)
            entry: dict[str, Any] = {"n_gold": len(y_all), "n_gold_covered": len(covered),
                                     "n_gold_uncovered": len(y_all) - len(covered)}
            if len(covered):
                res = evaluate(y_all.reindex(covered).to_numpy(), sub.loc[covered].to_numpy(dtype=float),
                               random_state=0)
                entry.update({k: v for k, v in res.items() if isinstance(v, (int, float)) and k != "n_gold"})
                entry["accuracy_all"] = entry.get("accuracy", 0.0) * len(covered) / len(y_all)
            out[q.name] = entry
        return out

    def _label_model_info(self, name: str | None) -> dict[str, Any] | None:
        """The fitted label model ``name`` as stored in a manifest: its own JSON form (``to_dict``)."""
        fitted = {q: est for (q, n), (est, _lfs) in self._extensions.get("label_models", {}).items() if n == name}
        if not fitted:
            return None
        forms = {q: est.to_dict() for q, est in fitted.items()}
        first = next(iter(forms.values()))
        learned = first["fitted"] if self.schema.is_single else {q: f["fitted"] for q, f in forms.items()}
        return {"name": name, "class": first["model"], "format": first["format"],
                "format_version": first["format_version"], "params": first["params"], "learned": learned}

    def label_model_of(self, version: str, question: str | None = None) -> Any:
        """Rebuild the label model a version was made with, from its manifest alone (no pickle).

        Returns a fitted :class:`~workbench.models.LabelModel` that predicts like the original.
        """
        from workbench.models import LabelModel

        info = self.label_version_manifest(version).get("label_model")
        if not info:
            raise WorkbenchError(f"Label version {version!r} records no label model (its soft labels came from "
                                 f"humans or gold only).")
        learned = info["learned"]
        if not self.schema.is_single:
            q = self.schema.question(question).name
            learned = learned[q]
        return LabelModel.from_dict({"format": info["format"], "format_version": info["format_version"],
                                     "model": info["class"], "params": info["params"], "fitted": learned})

    def label_versions(self) -> pd.DataFrame:
        """Every saved label version with its lineage, metrics and the runs that used it."""
        return self._versions.list()

    def load_labels(self, name: str, *, verify: bool = True) -> pd.DataFrame:
        """A saved version's soft labels, sorted by id (hashes are checked unless ``verify=False``)."""
        df, manifest = self._versions.load(name, verify=verify)
        df.attrs["manifest"] = manifest
        return df

    def label_version_manifest(self, name: str) -> dict[str, Any]:
        """A saved version's manifest (its full provenance)."""
        return self._versions.load(name)[1]

    def diff_labels(self, a: str, b: str, *, question: str | None = None, tol: float = 1e-3) -> pd.DataFrame:
        """Which examples changed between two versions, and by how much (total variation distance).

        ``changed`` is True for added or removed examples, changed hard labels, and
        probability changes larger than ``tol`` (refits move every probability a little).
        """
        diff = self._versions.diff(a, b, question=question)
        moved = diff["max_abs_change"].fillna(0.0).to_numpy() > tol
        diff["changed"] = (~diff["in_a"] | ~diff["in_b"] | diff["label_changed"].astype(bool)
                           | moved).to_numpy()
        diff.attrs["n_changed"] = int(diff["changed"].sum())
        diff.attrs["tol"] = tol
        if isinstance(diff.attrs.get("summary"), dict):
            diff.attrs["summary"] = {**diff.attrs["summary"], "n_changed": diff.attrs["n_changed"], "tol": tol}
        return diff

    def training_data(
        self,
        version: str,
        features: pd.DataFrame | None = None,
        *,
        question: str | None = None,
        min_confidence: float = 0.0,
        soft: bool = False,
        y_format: str = "choice",
        run_name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """Training arrays ``(X, y, w)`` from a label version, and a recorded training run.

        Rows with no signal are left out; ``w`` is the per-row training weight (use it as
        ``sample_weight``); ``soft=True`` gives (n, k) probability targets instead of labels.
        The run is recorded (``run_name``, default ``"train-<version>"``) and linked to the
        version and to the label events current at that moment.
        """
        X, y, w = self._versions.training_data(
            version, features, question=question, min_confidence=min_confidence, soft=soft,
            y_format=y_format,  # type: ignore[arg-type]
        )
        run = self.record_training_run(run_name or f"train-{version}", self.labels(), label_version=version,
                                       params={"n_rows": len(y), "soft": soft, **(params or {})})
        self._versions.mark_used(version, run.run_id)
        return X, y, w


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database (containers): fall back
        return os.environ.get("USER", "unknown")

