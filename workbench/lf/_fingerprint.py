"""Stable, content-based fingerprints of labeling functions.

A fingerprint is the SHA-256 of a canonical description of what an LF computes: the source of
its function (``inspect.getsource`` when available, else the code object's bytes, constants and
names), the values of the globals and closure variables it reads, its default arguments, its
parameters (keywords, pattern, label, question, thresholds ...) and its resources. The same LF
gets the same fingerprint in every process and session (nothing depends on ``id`` or ``hash``),
so it can name cache files on disk.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["canonical", "fingerprint_of", "function_token"]

_MAX_DEPTH = 6


def _hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code_token(code: types.CodeType) -> list[Any]:
    """Describe a code object without its source: bytecode, constants (recursively) and names."""
    consts: list[Any] = []
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            consts.append(_code_token(c))
        elif isinstance(c, (frozenset, tuple, str, bytes, int, float, bool, type(None))):
            consts.append(canonical(c))  # order-independent: a frozenset's repr depends on hash seeds
        else:
            consts.append(repr(c))
    return [_hash_bytes(code.co_code), consts, list(code.co_names), list(code.co_varnames)]


def _global_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names.extend(_global_names(c))
    return names


def function_token(f: Callable[..., Any], depth: int = 0, _seen: set[int] | None = None) -> Any:
    """Canonical description of a Python function: source, read globals, closure, defaults."""
    seen = set() if _seen is None else _seen
    if id(f) in seen or depth > _MAX_DEPTH:
        return ["<recursive>", getattr(f, "__qualname__", repr(type(f)))]
    seen.add(id(f))
    if isinstance(f, functools_partial_type()):
        assert isinstance(f, functools.partial)
        return [
            "partial",
            function_token(f.func, depth + 1, seen),
            [canonical(a, depth + 1, seen) for a in f.args],
            canonical(f.keywords, depth + 1, seen),
        ]
    if isinstance(f, types.MethodType):
        return ["method", function_token(f.__func__, depth + 1, seen), canonical(f.__self__, depth + 1, seen)]
    code = getattr(f, "__code__", None)
    if code is None:
        # A callable object (e.g. a class instance with __call__): describe its type and state.
        return ["callable", canonical(f, depth + 1, seen)]
    try:
        source: Any = inspect.getsource(f)
    except (OSError, TypeError):
        source = None
    # Both the source and the compiled code: a module edited on disk but not reloaded shows
    # new source while still running old code, and must not reuse the new code's cache.
    token: list[Any] = ["function", getattr(f, "__qualname__", ""), source, _code_token(code)]
    glb = getattr(f, "__globals__", {})
    reads: dict[str, Any] = {}
    for name in sorted(set(_global_names(code))):
        if name not in glb:
            continue
        value = glb[name]
        if isinstance(value, types.ModuleType):
            reads[name] = ["module", value.__name__]
        elif isinstance(value, type):
            reads[name] = ["type", value.__module__, value.__qualname__]
        elif callable(value) and getattr(value, "__module__", None) in (f.__module__, "__main__"):
            reads[name] = (
                function_token(value, depth + 1, seen)
                if hasattr(value, "__code__")
                else (canonical(value, depth + 1, seen))
            )
        elif callable(value):
            reads[name] = ["callable", getattr(value, "__module__", ""), getattr(value, "__qualname__", "")]
        else:
            reads[name] = canonical(value, depth + 1, seen)
    token.append(reads)
    closure = getattr(f, "__closure__", None) or ()
    cells = []
    for cell in closure:
        try:
            cells.append(canonical(cell.cell_contents, depth + 1, seen))
        except ValueError:  # empty cell
            cells.append("<empty>")
    token.append(cells)
    token.append(canonical(getattr(f, "__defaults__", None), depth + 1, seen))
    token.append(canonical(getattr(f, "__kwdefaults__", None), depth + 1, seen))
    return token


def functools_partial_type() -> type:
    import functools

    return functools.partial


def canonical(obj: Any, depth: int = 0, _seen: set[int] | None = None) -> Any:
    """A JSON-serializable, order-independent description of ``obj`` for hashing."""
    seen = set() if _seen is None else _seen
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return ["np", type(obj).__name__, repr(obj.item())]
    if depth > _MAX_DEPTH:
        return ["<deep>", type(obj).__qualname__]
    if isinstance(obj, bytes):
        return ["bytes", _hash_bytes(obj)]
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return ["ndarray-object", list(obj.shape), [canonical(v, depth + 1, seen) for v in obj.ravel()]]
        return ["ndarray", str(obj.dtype), list(obj.shape), _hash_bytes(np.ascontiguousarray(obj).tobytes())]
    if isinstance(obj, (pd.Series, pd.DataFrame, pd.Index)):
        hashed = pd.util.hash_pandas_object(obj, index=not isinstance(obj, pd.Index)).to_numpy()
        cols = list(map(str, obj.columns)) if isinstance(obj, pd.DataFrame) else [str(obj.name)]
        return ["pandas", type(obj).__name__, cols, _hash_bytes(hashed.tobytes())]
    if isinstance(obj, Mapping):
        items = [[canonical(k, depth + 1, seen), canonical(v, depth + 1, seen)] for k, v in obj.items()]
        return ["map", sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True, default=str))]
    if isinstance(obj, (set, frozenset)):
        elems = [canonical(v, depth + 1, seen) for v in obj]
        return ["set", sorted(elems, key=lambda e: json.dumps(e, sort_keys=True, default=str))]
    if isinstance(obj, (list, tuple)):
        return [type(obj).__name__, [canonical(v, depth + 1, seen) for v in obj]]
    if isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
        return function_token(obj, depth + 1, seen)
    if isinstance(obj, types.ModuleType):
        return ["module", obj.__name__]
    if isinstance(obj, type):
        return ["type", obj.__module__, obj.__qualname__]
    if id(obj) in seen:
        return ["<cycle>", type(obj).__qualname__]
    seen.add(id(obj))
    # Objects that describe themselves (our LFs, snorkel mappers, estimators ...).
    own = getattr(obj, "_fingerprint_token", None)
    if callable(own):
        return own()
    state_dict = getattr(obj, "state_dict", None)
    if callable(state_dict) and type(obj).__module__.split(".")[0] == "torch":
        # torch modules keep their weights outside __dict__: hash the tensors themselves.
        tensors = {k: v.detach().cpu().numpy() for k, v in state_dict().items()}
        return ["torch", type(obj).__module__, type(obj).__qualname__, canonical(tensors, depth + 1, seen)]
    if hasattr(obj, "__array__") and not isinstance(obj, type):
        try:
            arr = np.asarray(obj)
        except Exception:  # noqa: BLE001 - fall through to the generic description
            arr = None
        if arr is not None and not arr.dtype.hasobject:
            return ["array-like", type(obj).__qualname__, canonical(arr, depth + 1, seen)]
    state: dict[str, Any] = {}
    try:
        state = dict(vars(obj))
    except TypeError:
        slots = getattr(type(obj), "__slots__", ())
        state = {s: getattr(obj, s) for s in slots if hasattr(obj, s)}
    cls = type(obj)
    token: list[Any] = ["object", cls.__module__, cls.__qualname__]
    if cls.__module__ in ("__main__",) or cls.__module__.split(".")[0] not in _LIBRARY_ROOTS:
        # User-defined class: its source matters as much as its state.
        try:
            token.append(_hash_bytes(inspect.getsource(cls).encode()))
        except (OSError, TypeError):
            token.append("<no-source>")
    token.append(canonical({k: v for k, v in state.items() if not k.startswith("__")}, depth + 1, seen))
    return token


_LIBRARY_ROOTS = {"sklearn", "numpy", "pandas", "scipy", "snorkel", "torch", "builtins"}


def fingerprint_of(*parts: Any) -> str:
    """SHA-256 hex digest (first 24 characters) of the canonical form of ``parts``."""
    payload = json.dumps([canonical(p) for p in parts], sort_keys=True, default=str)
    return _hash_bytes(payload.encode("utf-8"))[:24]
