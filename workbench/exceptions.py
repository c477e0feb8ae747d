"""The exception hierarchy of the workbench.

Every error raised on purpose by the workbench derives from :class:`WorkbenchError`, and
most also derive from the built-in exception a Python user would expect (``ValueError``
for a bad value, ``FileNotFoundError`` for a missing project ...), so ``except ValueError``
keeps working. Messages say what was wrong, what was expected, what was received and how
to fix it.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "AccountError",
    "AuthError",
    "CLIError",
    "DataError",
    "DuplicateIdError",
    "ConflictingContentError",
    "IdempotencyError",
    "IntegrityError",
    "LabelValidationError",
    "LFError",
    "LFTimeoutError",
    "NotFittedError",
    "OptionalDependencyError",
    "PermissionDeniedError",
    "ProjectClosedError",
    "ProjectExistsError",
    "ProjectNotFoundError",
    "RateLimitedError",
    "ReportError",
    "SchemaError",
    "StaleDecisionError",
    "StoreError",
    "StoreCorruptedError",
    "StoreIntegrityError",
    "UnknownExampleError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class SchemaError(WorkbenchError, ValueError):
    """A schema, question, choice or condition is malformed."""


class LabelValidationError(WorkbenchError, ValueError):
    """A label does not fit the project's schema; nothing was written."""


class DataError(WorkbenchError, ValueError):
    """Input data cannot be ingested as given; nothing was written."""


class DuplicateIdError(DataError):
    """The same example id occurs more than once within one batch."""

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


class ConflictingContentError(DataError):
    """An example id that is already stored reappears with different content."""

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids

    @classmethod
    def for_ids(cls, ids: list[str]) -> ConflictingContentError:
        """The error for these ids, with the standard explanation and fix."""
        shown = ", ".join(repr(i) for i in ids[:10])
        more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
        return cls(
            f"{len(ids)} example id(s) are already stored with different content: {shown}{more}. "
            f"An example's content never changes once added. Give the changed rows new ids, or drop them "
            f"from this batch.",
            list(ids),
        )


class UnknownExampleError(WorkbenchError, KeyError):
    """An example id is not part of the project's data."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreError(WorkbenchError):
    """The project store cannot be read or written."""


class StoreCorruptedError(StoreError):
    """A file in the project directory is damaged or is not what it should be."""


class IntegrityError(StoreError):
    """A stored, immutable object no longer matches the hash recorded for it."""


class ProjectNotFoundError(StoreError, FileNotFoundError):
    """There is no workbench project at the given path."""


class ProjectExistsError(StoreError, FileExistsError):
    """A project already exists where a new one was to be created."""


class LFError(WorkbenchError, ValueError):
    """A labeling function is malformed or returned something it must not."""


class NotFittedError(WorkbenchError, _SklearnNotFittedError):
    """A model was used before ``fit``; also an instance of scikit-learn's ``NotFittedError``."""


class OptionalDependencyError(WorkbenchError, ImportError):
    """An optional package is needed for this feature; the message names the extra to install."""


class IdempotencyError(LabelValidationError):
    """An ``event_uid`` that is already stored was sent again with different content; nothing was written.

    Attributes
    ----------
    event_uid : str
        The reused idempotency key.
    differences : dict
        Field name -> ``(stored value, sent value)`` for every field that differs.
    """

    def __init__(self, message: str, event_uid: str, differences: dict[str, tuple[object, object]]) -> None:
        super().__init__(message)
        self.event_uid = event_uid
        self.differences = differences


class ProjectClosedError(WorkbenchError):
    """The project (its store) was closed; open it again with ``Project.open(path)``."""


class StoreIntegrityError(IntegrityError):
    """The project database failed its self-check; ``report`` holds the full structured report."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class LFTimeoutError(LFError):
    """A labeling function ran longer than the engine's time limit and was stopped; its rows abstain."""


class AuthError(WorkbenchError):
    """Base class of every refusal by :mod:`workbench.auth`: a bad account input, a refused login,
    a role without the permission, an address ``serve`` must not listen on."""


class AccountError(AuthError, ValueError):
    """An account input is invalid (empty or malformed name, unknown role, short password, duplicate
    or unknown user); nothing was written."""


class PermissionDeniedError(AuthError, PermissionError):
    """The user's role does not allow the requested view or action (or the user has no valid session).

    Attributes
    ----------
    role : str or None
        The role that was refused (None: nobody is logged in).
    permission : str
        The view or action asked for, e.g. ``"view:lfs"`` or ``"export"``.
    """

    def __init__(self, message: str, *, role: str | None, permission: str) -> None:
        super().__init__(message)
        self.role = role
        self.permission = permission

    def __str__(self) -> str:  # PermissionError would format (errno, strerror)
        return str(self.args[0]) if self.args else ""


class RateLimitedError(AuthError):
    """Too many failed logins for this user or from this client; nothing was checked.

    Attributes
    ----------
    retry_after : int
        Seconds to wait before the next attempt is considered.
    """

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReportError(WorkbenchError):
    """The report could not be built: a bad parameter or template, or a cell of the notebook failed."""


class StaleDecisionError(WorkbenchError):
    """A decision was made on answers that changed since (another session answered, changed an answer or
    decided the item); nothing was written. Look at the item again.

    Attributes
    ----------
    example_id : str
        The item.
    changes : list of str
        What changed, one phrase each (e.g. ``"cid now answers 'spam' (was 'ham')"``).
    """

    def __init__(self, message: str, *, example_id: str, changes: list[str]) -> None:
        super().__init__(message)
        self.example_id = example_id
        self.changes = changes


class CLIError(WorkbenchError):
    """A command-line argument is wrong (the message names the flag)."""
