"""How a project routes work and judges annotators: one stored, validated setting object."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.exceptions import DataError, LabelValidationError
from workbench.store import EventStore

__all__ = ["QualityConfig", "load_config", "save_config"]

_META_KEY = "quality_config"


@dataclass(frozen=True)
class QualityConfig:
    """How a project routes work and judges annotators.

    Change it with ``project.annotation.configure(...)``; read it as
    ``project.annotation.config``.

    Attributes
    ----------
    overlap : int
        Independent annotators per item (k).
    honeypot_rate : float
        Share of served items that are hidden gold items, in [0, 1).
    agreement_threshold : float
        Items whose consensus agreement is below this go to adjudication.
    lease_seconds : float
        How long an item served to an annotator stays reserved for them.
    min_honeypots : int
        Honeypot answers needed before an annotator's accuracy is judged.
    accuracy_threshold : float
        Honeypot accuracy below which (upper CI bound) an annotator is flagged.
    exclude_flagged : bool
        Leave flagged annotators out of consensus.
    weight_annotators : bool
        Weight each annotator's vote in majority-vote consensus by the report's
        ``recommended_weight``, so unreliable annotators count less. Dawid-Skene weighs
        annotators by itself.
    drift_window : str or int
        The windows drift is measured in wherever no window is given (the annotator report,
        ``flagged()``, the weights and exclusions of consensus, the dashboards): a time span
        such as ``"7D"``, or an int, windows of that many answers per annotator.
    """

    overlap: int = 1
    honeypot_rate: float = 0.0
    agreement_threshold: float = 0.7
    lease_seconds: float = 900.0
    min_honeypots: int = 10
    accuracy_threshold: float = 0.7
    exclude_flagged: bool = False
    weight_annotators: bool = False
    drift_window: str | int = "7D"

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> LabelValidationError:
            return LabelValidationError(
                f"The '{name}' parameter of project.annotation.configure must be {expected}. "
                f"Got {getattr(self, name)!r} instead."
            )

        def number(name: str) -> bool:
            value = getattr(self, name)
            return isinstance(value, (int, float)) and not isinstance(value, bool)

        if isinstance(self.overlap, bool) or not isinstance(self.overlap, int) or self.overlap < 1:
            raise bad("overlap", "an integer >= 1")
        if not number("honeypot_rate") or not 0.0 <= self.honeypot_rate < 1.0:
            raise bad("honeypot_rate", "a number in [0, 1)")
        if not number("agreement_threshold") or not 0.0 <= self.agreement_threshold <= 1.0:
            raise bad("agreement_threshold", "a number in [0, 1]")
        if not number("lease_seconds") or not 0 < self.lease_seconds < float("inf"):
            raise bad("lease_seconds", "a positive, finite number of seconds")
        if isinstance(self.min_honeypots, bool) or not isinstance(self.min_honeypots, int) or self.min_honeypots < 1:
            raise bad("min_honeypots", "an integer >= 1")
        if not number("accuracy_threshold") or not 0.0 <= self.accuracy_threshold <= 1.0:
            raise bad("accuracy_threshold", "a number in [0, 1]")
        for flag in ("exclude_flagged", "weight_annotators"):
            if not isinstance(getattr(self, flag), bool):
                raise bad(flag, "True or False")
        from workbench.quality._drift import _window

        window_kind = "a time span such as '7D' or '12h', or a positive int (windows of that many answers)"
        if isinstance(self.drift_window, bool) or not isinstance(self.drift_window, (str, int)):
            raise bad("drift_window", window_kind)  # stored as JSON: text or a plain int
        try:
            _window(self.drift_window)
        except DataError:
            raise bad("drift_window", window_kind) from None


def load_config(store: EventStore) -> QualityConfig:
    """The project's stored settings (defaults where none are stored)."""
    stored = store.get_meta(_META_KEY) or {}
    return QualityConfig(**stored)


def save_config(store: EventStore, **settings: Any) -> QualityConfig:
    """Validate ``settings`` against the stored ones, store and return the result."""
    known = set(QualityConfig.__dataclass_fields__)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise LabelValidationError(
            f"project.annotation.configure got unknown setting(s) {unknown}. Known: {sorted(known)}."
        )
    config = QualityConfig(**{**asdict(load_config(store)), **settings})
    store.set_meta(_META_KEY, asdict(config))
    return config
