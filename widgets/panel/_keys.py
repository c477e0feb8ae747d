"""Keyboard shortcuts for a Panel view: key presses in the page are sent to Python, which acts on them.

Keys typed into a text field (the note, the search box) are left alone, so typing a note never
decides an item. Each key goes back with the ``context`` the page showed when it was pressed (the
item on screen): a key that arrives after the server moved on to another item is refused rather
than applied to an item the reviewer has not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import param
from panel.custom import JSComponent
from panel.io import hold
from panel.io.state import state

from workbench.exceptions import LabelValidationError

__all__ = ["KeyboardShortcuts", "one_update"]


class KeyboardShortcuts(JSComponent):
    """Listens for ``keys`` anywhere in the page and calls ``on_key(key)`` on the server.

    Parameters
    ----------
    keys : list of str
        The ``KeyboardEvent.key`` values to forward (e.g. ``["1", "2", "Enter", "s", "u"]``); others are ignored.
    on_key : callable, optional
        Called with the key on the server.
    on_early : callable, optional
        Called with a message for the user when a key (or a click guarded by :meth:`guarded`)
        came before the page showed the current item; the input is not acted on.
    context_free : list of str, optional
        Keys that act whatever the context (e.g. ``"u"``, undo the last decision).

    Once the listener is attached, ``document.body.dataset.wbKeys`` is ``"ready"``.

    Attributes
    ----------
    last_key : str
        The last key forwarded.
    presses : int
        How many keys were forwarded.
    context : str
        The item the page shows. Set it after the item's panes, so that the browser never has the
        new context while it still shows the old item.
    stale : int
        Keys refused because they were pressed on another context.
    shown : str or None
        The context the page reported it applied; see :meth:`page_is_behind`.
    """

    keys = param.List(default=[], item_type=str, doc="The keys forwarded to Python.")
    last_key = param.String(default="", doc="The last key forwarded.")
    presses = param.Integer(default=0, doc="How many keys were forwarded.")
    context = param.String(default="", doc="What the page shows (the current item's id); set it after rendering.")
    stale = param.Integer(default=0, doc="How many keys were refused because the page showed another context.")
    shown = param.String(default=None, allow_None=True,
                         doc="The context the page last reported it applied (None: no page has reported yet).")

    _esm = """
    export function render({ model, el }) {
      el.style.display = "none";
      const typing = (target) => {
        if (!target || !target.tagName) { return false; }
        const tag = target.tagName.toLowerCase();
        return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
      };
      const onKey = (event) => {
        if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
        const path = event.composedPath ? event.composedPath() : [event.target];
        if (typing(path[0])) { return; }
        if (!model.keys.includes(event.key)) { return; }
        event.preventDefault();
        model.send_msg({ key: event.key, context: model.context });
      };
      // tell the server which context the page has applied: messages from the page arrive in
      // order, so a click sent before this report was made on the previous item
      const report = () => model.send_msg({ shown: model.context });
      model.on("context", report);
      report();
      document.addEventListener("keydown", onKey);
      document.body.dataset.wbKeys = "ready";  // a page (or a test) can tell the shortcuts are live
      model.on("remove", () => {
        document.removeEventListener("keydown", onKey);
        delete document.body.dataset.wbKeys;
      });
    }
    """

    def __init__(
        self,
        *,
        on_key: Callable[[str], Any] | None = None,
        keys: Sequence[str] = (),
        on_early: Callable[[str], Any] | None = None,
        context_free: Sequence[str] = (),
        **params: Any,
    ) -> None:
        super().__init__(keys=list(keys), height=0, width=0, margin=0, **params)
        self._on_key = on_key
        self._on_early = on_early
        self._context_free = set(context_free)

    def page_is_behind(self) -> bool:
        """Whether a page showing this view has not yet applied the current context.

        A click (which carries no item) that arrives while this is true was made on the previous
        item. False when no page reported at all (a notebook or a test driving the view).
        """
        return self.shown is not None and self.shown != self.context

    def guarded(self, what: str, action: Callable[[], Any]) -> Callable[[Any], None]:
        """A button's click handler that runs ``action()`` unless the page is behind.

        Buttons carry no item, so a click that arrives before the page reported the current item
        (the second click of a double click, a click during render lag) was made on the previous
        one; ``on_early`` gets a message instead.
        """

        def handler(_event: Any) -> None:
            if self.page_is_behind():
                self._early(f"The click on {what!r} was made before this item appeared, so nothing was done. "
                            "Look at the item and click again.")
                return
            action()

        return handler

    def _early(self, message: str) -> None:
        if self._on_early is not None:
            self._on_early(message)

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and "shown" in msg and "key" not in msg:
            shown = msg["shown"]
            if isinstance(shown, str):
                self.shown = shown
            return
        key = msg.get("key") if isinstance(msg, dict) else None
        if not isinstance(key, str) or key not in self.keys:
            return  # the browser sends only listed keys; anything else is ignored
        context = msg.get("context")
        if key not in self._context_free and context != self.context:
            # pressed while the page still showed another item: acting on it would decide an
            # item the reviewer has not seen
            self.stale += 1
            self._early(f"The key {key!r} was pressed before this item appeared, so nothing was done. Look at "
                        "the item and press it again.")
            return
        self.press(key)

    def press(self, key: str) -> None:
        """Act on ``key`` as if it was pressed in the page (also what tests drive)."""
        if key not in self.keys:
            raise LabelValidationError(f"The key {key!r} is not one of this view's shortcuts {self.keys!r}.")
        self.last_key = key
        self.presses += 1
        if self._on_key is not None:
            self._on_key(key)


@contextmanager
def one_update(*views: Any) -> Iterator[None]:
    """Send every change made inside the block to each page showing ``views`` as one message.

    The browser then applies a new item's panes and the new :attr:`KeyboardShortcuts.context`
    in the same task, so no key press can fall between them (it would carry the old item and be
    refused although the new item was already on screen).

    Parameters
    ----------
    views : Panel objects
        The layouts being changed (their pages are found from the objects; outside a served page
        the block runs as is).
    """
    docs = {doc for view in views if view is not None for doc in getattr(view, "_documents", {})}
    if not docs and state.curdoc is not None:
        docs = {state.curdoc}
    with ExitStack() as stack:
        for doc in docs:
            stack.enter_context(hold(doc))
        yield
