"""Plain, synchronous events announced by core objects.

Widgets subscribe to these; every subscription returns a handle that undoes it, so a
closed widget leaves no listener behind.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["EventEmitter", "Subscription"]

_log = logging.getLogger(__name__)

Callback = Callable[..., Any]


class Subscription:
    """A handle returned by :meth:`EventEmitter.connect`; call :meth:`disconnect` to undo it."""

    def __init__(self, emitter: EventEmitter, event: str, callback: Callback) -> None:
        self._emitter = emitter
        self.event = event
        self.callback = callback
        self.connected = True

    def disconnect(self) -> None:
        """Remove the callback; calling this twice is harmless."""
        if self.connected:
            self._emitter._remove(self)
            self.connected = False

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


class EventEmitter:
    """A registry of callbacks keyed by past-tense event names (``labels_added`` ...).

    Parameters
    ----------
    events : iterable of str
        The event names this emitter may announce. Connecting to any other name raises
        ``ValueError``, which catches typos early.
    """

    def __init__(self, events: tuple[str, ...]) -> None:
        self._known = tuple(events)
        self._subs: dict[str, list[Subscription]] = defaultdict(list)

    @property
    def event_names(self) -> tuple[str, ...]:
        """The names of the events this emitter announces."""
        return self._known

    def connect(self, event: str, callback: Callback) -> Subscription:
        """Call ``callback(**payload)`` every time ``event`` is announced."""
        if event not in self._known:
            raise ValueError(
                f"Unknown event {event!r}. Expected one of {', '.join(self._known)}."
            )
        if not callable(callback):
            raise TypeError(f"The callback for {event!r} must be callable, got {callback!r}.")
        sub = Subscription(self, event, callback)
        self._subs[event].append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.event, [])
        if sub in subs:
            subs.remove(sub)

    def n_listeners(self, event: str | None = None) -> int:
        """How many callbacks are connected (to one event, or to all)."""
        if event is None:
            return sum(len(v) for v in self._subs.values())
        return len(self._subs.get(event, []))

    def emit(self, event: str, **payload: Any) -> None:
        """Announce ``event``; a failing listener is logged and never breaks the caller."""
        for sub in list(self._subs.get(event, [])):
            try:
                sub.callback(**payload)
            except Exception:  # noqa: BLE001 - a broken widget must not lose the user's labels
                _log.exception("A listener of %r raised; the event was still recorded.", event)
