"""Stable, content-based fingerprints of labeling functions, and the user code they reach.

A fingerprint is the SHA-256 of a canonical description of what an LF computes. For a Python
function that is its source (``inspect.getsource``) *and* its compiled code (bytecode,
constants, names), the values of the globals and closure cells it reads, its default
arguments, and -- transitively -- the same description of every piece of *user code* it
reaches: helper functions in other modules, the attributes it reads of user modules
(``helpers.is_spam``), user classes (their methods and class attributes) and the instances of
them it holds, snorkel preprocessors and resources. Code of installed packages (the standard
library, anything under ``site-packages``, and the workbench itself) is named, not hashed:
module, qualified name and the package's ``__version__``.

Nothing depends on ``id`` or ``hash``, so the same LF gets the same fingerprint in every
process and session and can name cache files on disk; a helper module edited and reloaded
(``importlib.reload``) gives a new fingerprint. Cycles (recursive helpers, modules importing
each other, self-referencing objects) are followed once.

What cannot be described canonically -- a function without source (defined in a plain REPL or
by ``exec``), a C extension that is not part of an installed package, an object whose state
cannot be inspected -- makes the LF *volatile*: :class:`FingerprintReport` lists why, and the
engine then recomputes that LF on every apply and never caches it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import dis
import enum
import functools
import hashlib
import importlib.util
import inspect
import json
import logging
import os
import re
import site
import sys
import sysconfig
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FingerprintReport",
    "canonical",
    "fingerprint_of",
    "fingerprint_report",
    "function_token",
    "hashing_session",
    "is_library_module",
]

#: Deeper nesting of data than this is not followed; the LF becomes volatile instead.
_MAX_DEPTH = 40
#: Attributes of a class that describe it without being part of what it computes.
_CLASS_SKIP = frozenset(
    {"__dict__", "__weakref__", "__module__", "__doc__", "__qualname__", "__annotations__", "__slots__"}
)
#: Objects that influence no result: hashed by their type only.
_INERT_TYPES: tuple[type, ...] = (
    logging.Logger,
    logging.Handler,
    type(threading.Lock()),
    type(threading.RLock()),
    threading.Event,
    threading.Condition,
    threading.Semaphore,
)
_DESCRIPTOR_TYPES = (
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
)
_MISSING = object()


@dataclass(frozen=True)
class FingerprintReport:
    """A fingerprint and why, if at all, it cannot be trusted to name cached results.

    Attributes
    ----------
    digest : str
        The fingerprint (24 hex characters).
    volatile_reasons : tuple of str
        Human-readable reasons why part of what the LF computes could not be hashed; empty when
        the fingerprint covers everything.
    """

    digest: str
    volatile_reasons: tuple[str, ...] = ()

    @property
    def volatile(self) -> bool:
        """True when the fingerprint does not cover everything the LF reaches."""
        return bool(self.volatile_reasons)

    @property
    def volatile_reason(self) -> str | None:
        """The reasons joined into one sentence, or None when not volatile."""
        return "; ".join(self.volatile_reasons) if self.volatile_reasons else None


# --------------------------------------------------------------------------------------
# Installed packages vs user code
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    dirs: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.add(paths[key])
    with contextlib.suppress(Exception):
        dirs.update(site.getsitepackages())
    with contextlib.suppress(Exception):
        dirs.add(site.getusersitepackages())
    dirs.update(p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p))
    dirs.add(str(Path(__file__).resolve().parents[1]))  # the workbench package itself
    return tuple(sorted({os.path.join(os.path.realpath(d), "") for d in dirs}))


@functools.lru_cache(maxsize=4096)
def _is_library_file(path: str) -> bool:
    real = os.path.realpath(path)
    return any(real.startswith(d) for d in _library_dirs())


def is_library_module(module: types.ModuleType | str | None) -> bool:
    """True when ``module`` belongs to an installed package, the standard library or the workbench.

    Modules without a file (``__main__`` of a REPL, modules built at run time) are user code;
    built-in and frozen modules are library code.
    """
    if isinstance(module, str):
        name = module
        module = sys.modules.get(module)
        if module is None:
            return name in sys.builtin_module_names or name.split(".")[0] in ("builtins", "workbench")
    if module is None:
        return False
    name = module.__name__
    if name in sys.builtin_module_names or name == "builtins":
        return True
    file = getattr(module, "__file__", None)
    if file:
        return _is_library_file(file)
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.origin in ("frozen", "built-in"):
        return True
    search = list(getattr(module, "__path__", []) or [])
    return bool(search) and all(_is_library_file(p) for p in search)


def _version_of(module_name: str | None) -> str | None:
    if not module_name:
        return None
    top = sys.modules.get(module_name.split(".")[0])
    version = getattr(top, "__version__", None)
    return version if isinstance(version, str) else None


def _is_library_function(f: types.FunctionType) -> bool:
    filename = f.__code__.co_filename
    if filename and not filename.startswith("<") and os.path.isabs(filename):
        return _is_library_file(filename)
    # Generated code (exec, dataclasses, namedtuple ...): judge by the module it belongs to.
    module = getattr(f, "__module__", None)
    return module is not None and is_library_module(module)


def _hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code_token(code: types.CodeType) -> list[Any]:
    """Describe a code object without its source: bytecode, constants (recursively) and names."""
    consts: list[Any] = []
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            consts.append(_code_token(c))
        elif isinstance(c, (frozenset, tuple, str, bytes, int, float, bool, type(None))):
            consts.append(_plain(c))  # order-independent: a frozenset's repr depends on hash seeds
        else:
            consts.append(repr(c))
    return [_hash_bytes(code.co_code), consts, list(code.co_names), list(code.co_varnames)]


def _plain(c: Any) -> Any:
    if isinstance(c, frozenset):
        return ["set", sorted((_plain(v) for v in c), key=lambda e: json.dumps(e, sort_keys=True, default=str))]
    if isinstance(c, tuple):
        return ["tuple", [_plain(v) for v in c]]
    if isinstance(c, float):
        return repr(c)
    if isinstance(c, bytes):
        return ["bytes", _hash_bytes(c)]
    return c


# --------------------------------------------------------------------------------------
# What a code object reads: globals, attributes of modules, imports
# --------------------------------------------------------------------------------------
@dataclass
class _Reads:
    """Globals read by a code object; for each, the attribute chains read from it (``()``: the value)."""

    globals: dict[str, set[tuple[str, ...]]] = dataclasses.field(default_factory=dict)
    imports: dict[str, set[tuple[str, ...]]] = dataclasses.field(default_factory=dict)


@functools.lru_cache(maxsize=8192)
def _code_reads(code: types.CodeType) -> _Reads:
    reads = _Reads()
    _collect_reads(code, reads)
    return reads


def _collect_reads(code: types.CodeType, reads: _Reads) -> None:
    instrs = list(dis.get_instructions(code))
    aliases: dict[str, str] = {}  # local variable -> module it was bound to by an import
    n = len(instrs)
    for i, ins in enumerate(instrs):
        op = ins.opname
        if op in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF"):
            name = str(ins.argval)
            if op in ("LOAD_FAST", "LOAD_DEREF") and name not in aliases:
                continue
            chain: list[str] = []
            j = i + 1
            while j < n and instrs[j].opname in ("LOAD_ATTR", "LOAD_METHOD"):
                chain.append(str(instrs[j].argval))
                j += 1
            if op in ("LOAD_FAST", "LOAD_DEREF"):
                reads.imports.setdefault(aliases[name], set()).add(tuple(chain))
            else:
                reads.globals.setdefault(name, set()).add(tuple(chain))
        elif op == "IMPORT_NAME":
            module = str(ins.argval)
            level = instrs[i - 2].argval if i >= 2 and instrs[i - 2].opname == "LOAD_CONST" else 0
            fromlist = instrs[i - 1].argval if i >= 1 and instrs[i - 1].opname == "LOAD_CONST" else None
            if level:
                module = "." * int(level) + module
            j = i + 1
            froms: list[str] = []
            while j < n and instrs[j].opname in ("IMPORT_FROM", "STORE_FAST", "STORE_NAME", "STORE_GLOBAL"):
                if instrs[j].opname == "IMPORT_FROM":
                    froms.append(str(instrs[j].argval))
                j += 1
            if froms:
                # ``import a.b as c`` compiles to IMPORT_NAME a.b + IMPORT_FROM b: read b of a.
                owner = module.rsplit(".", 1)[0] if fromlist is None and "." in module else module
                for attr in froms:
                    reads.imports.setdefault(owner, set()).add((attr,))
            elif i + 1 < n and instrs[i + 1].opname in ("STORE_FAST", "STORE_DEREF"):
                target = module if fromlist is not None or "." not in module else module.split(".")[0]
                aliases[str(instrs[i + 1].argval)] = target
            elif fromlist == ("*",):
                reads.imports.setdefault(module, set()).add(())
            else:
                reads.imports.setdefault(module, set())
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _collect_reads(c, reads)


# --------------------------------------------------------------------------------------
# The hashing session
# --------------------------------------------------------------------------------------
class _Session:
    """One traversal: remembers what it visited (cycles) and why the result is volatile."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self._memo: dict[Any, int] = {}
        self._keep: list[Any] = []  # keeps visited objects alive, so their ids are not reused
        self._active: set[int] = set()  # containers being traversed (cycle protection)

    def volatile(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def visit(self, obj: Any, tag: str = "") -> list[Any] | None:
        """None on the first visit of ``obj``; a back-reference token on later visits."""
        key = (tag, id(obj))
        seen = self._memo.get(key)
        if seen is not None:
            return ["<ref>", seen]
        self._memo[key] = len(self._memo)
        self._keep.append(obj)
        return None

    # -- values -------------------------------------------------------------------------
    def canonical(self, obj: Any, depth: int = 0) -> Any:
        if obj is None or type(obj) in (bool, int, str):
            return obj
        if isinstance(obj, enum.Enum):
            return self._object(obj, depth)
        if isinstance(obj, (bool, int, str)):
            return ["subclass", type(obj).__module__, type(obj).__qualname__, repr(obj)]
        if isinstance(obj, float):
            return repr(obj)
        if isinstance(obj, (np.integer, np.floating, np.bool_)):
            return ["np", type(obj).__name__, repr(obj.item())]
        if depth > _MAX_DEPTH:
            self.volatile(f"a {type(obj).__qualname__} is nested more than {_MAX_DEPTH} levels deep")
            return ["<deep>", type(obj).__qualname__]
        if isinstance(obj, bytes):
            return ["bytes", _hash_bytes(obj)]
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                return ["ndarray-object", list(obj.shape), [self.canonical(v, depth + 1) for v in obj.ravel()]]
            return ["ndarray", str(obj.dtype), list(obj.shape), _hash_bytes(np.ascontiguousarray(obj).tobytes())]
        if isinstance(obj, (pd.Series, pd.DataFrame, pd.Index)):
            try:
                hashed = pd.util.hash_pandas_object(obj, index=not isinstance(obj, pd.Index)).to_numpy()
            except TypeError as exc:  # unhashable cells (lists, dicts ...)
                self.volatile(f"a {type(obj).__name__} holds values pandas cannot hash ({exc})")
                return ["pandas", type(obj).__name__, "<unhashable>"]
            cols = list(map(str, obj.columns)) if isinstance(obj, pd.DataFrame) else [str(obj.name)]
            return ["pandas", type(obj).__name__, cols, _hash_bytes(hashed.tobytes())]
        if isinstance(obj, (dict, types.MappingProxyType, set, frozenset, list, tuple)) or (
            isinstance(obj, Mapping) and not _is_user(obj)
        ):
            if type(obj) not in (list, tuple, dict, set, frozenset, types.MappingProxyType) and not isinstance(
                obj, Mapping
            ):
                return self._object(obj, depth)  # a user subclass of list/tuple/set: its class matters
            if id(obj) in self._active:
                return ["<cycle>", type(obj).__name__]
            self._active.add(id(obj))
            try:
                return self._container(obj, depth)
            finally:
                self._active.discard(id(obj))
        if isinstance(obj, types.ModuleType):
            return self.module(obj, None, depth + 1)
        if isinstance(obj, type):
            return self.cls(obj, depth + 1)
        if callable(obj) and _is_function_like(obj):
            return self.function(obj, depth + 1)
        return self._object(obj, depth)

    def _object(self, obj: Any, depth: int) -> Any:
        ref = self.visit(obj)
        if ref is not None:
            return ref
        cls = type(obj)
        own = getattr(obj, "_fingerprint_token", None)
        if callable(own) and not isinstance(obj, type):
            return own()
        if isinstance(obj, _INERT_TYPES):
            return ["inert", cls.__module__, cls.__qualname__]
        if isinstance(obj, re.Pattern):
            return ["re", obj.pattern if isinstance(obj.pattern, str) else _plain(obj.pattern), obj.flags]
        if isinstance(obj, enum.Enum):
            return ["enum", self.cls(cls, depth + 1), obj.name]
        if isinstance(obj, PurePath):
            return ["path", cls.__name__, str(obj)]
        state_dict = getattr(obj, "state_dict", None)
        if callable(state_dict) and cls.__module__.split(".")[0] == "torch":
            # torch modules keep their weights outside __dict__: hash the tensors themselves.
            tensors = {k: v.detach().cpu().numpy() for k, v in state_dict().items()}
            return ["torch", cls.__module__, cls.__qualname__, self.canonical(tensors, depth + 1)]
        if hasattr(obj, "__array__"):
            try:
                arr = np.asarray(obj)
            except Exception:  # noqa: BLE001 - fall through to the generic description
                arr = None
            if arr is not None and not arr.dtype.hasobject:
                return ["array-like", cls.__qualname__, self.canonical(arr, depth + 1)]
        head: list[Any] = (
            ["object", self.cls(cls, depth + 1)]
            if _is_user(obj)
            else ["object", cls.__module__, cls.__qualname__, _version_of(cls.__module__)]
        )
        state = _inspectable_state(obj)
        if state is not None:
            return [*head, self.canonical({k: v for k, v in state.items() if not k.startswith("__")}, depth + 1)]
        try:
            reduced = obj.__reduce_ex__(4)
        except Exception as exc:  # noqa: BLE001 - any failure means "cannot describe it"
            name = f"{cls.__module__}.{cls.__qualname__}"
            self.volatile(f"the state of a {name} object cannot be inspected ({type(exc).__name__}: {exc})")
            return [*head, "<opaque>"]
        if isinstance(reduced, str):
            return [*head, "global", reduced]
        parts = list(reduced)
        for k in (3, 4):  # list and dict item iterators
            if len(parts) > k and parts[k] is not None:
                parts[k] = list(parts[k])
        return [*head, "reduce", self.canonical(parts, depth + 1)]

    def _container(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, Mapping):
            items = [[self.canonical(k, depth + 1), self.canonical(v, depth + 1)] for k, v in obj.items()]
            return ["map", sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True, default=str))]
        if isinstance(obj, (set, frozenset)):
            elems = [self.canonical(v, depth + 1) for v in obj]
            return ["set", sorted(elems, key=lambda e: json.dumps(e, sort_keys=True, default=str))]
        return [type(obj).__name__, [self.canonical(v, depth + 1) for v in obj]]

    # -- callables ----------------------------------------------------------------------
    def function(self, f: Any, depth: int = 0, source_optional: bool = False) -> Any:
        if isinstance(f, functools.partial):
            return [
                "partial",
                self.canonical(f.func, depth + 1),
                [self.canonical(a, depth + 1) for a in f.args],
                self.canonical(f.keywords, depth + 1),
            ]
        if isinstance(f, types.MethodType):
            return ["method", self.canonical(f.__func__, depth + 1), self.canonical(f.__self__, depth + 1)]
        if isinstance(f, (staticmethod, classmethod)):
            return [type(f).__name__, self.canonical(f.__func__, depth + 1)]
        if isinstance(f, (types.BuiltinFunctionType, *_DESCRIPTOR_TYPES)):
            return self._builtin(f, depth)
        if not isinstance(f, types.FunctionType):
            return self.canonical(f, depth)
        if _is_library_function(f):
            return ["lib-function", f.__module__, f.__qualname__, _version_of(f.__module__)]
        ref = self.visit(f)
        if ref is not None:
            return ref
        code = f.__code__
        try:
            source: str | None = inspect.getsource(f)
        except (OSError, TypeError):
            source = None
            if not source_optional:
                self.volatile(
                    f"the source of {f.__module__}.{f.__qualname__} is not available (defined in "
                    f"{code.co_filename!r}, e.g. a REPL or exec); define it in a file or a notebook cell"
                )
        # Both the source and the compiled code: a module edited on disk but not reloaded shows
        # new source while still running old code, and must not reuse the new code's cache.
        token: list[Any] = ["function", f.__module__, f.__qualname__, source, _code_token(code)]
        token.append(self._reads(f, code, depth))
        cells = []
        for cell in f.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # empty cell
                cells.append("<empty>")
            else:
                cells.append(self._value(value, (), depth + 1))
        token.append(cells)
        token.append(self.canonical(f.__defaults__, depth + 1))
        token.append(self.canonical(f.__kwdefaults__, depth + 1))
        extra = {k: v for k, v in vars(f).items() if k not in ("__wrapped__",) and not k.startswith("__")}
        token.append(self.canonical(extra, depth + 1) if extra else None)
        return token

    def _builtin(self, f: Any, depth: int) -> Any:
        owner = getattr(f, "__self__", None)
        module = getattr(f, "__module__", None)
        qualname = getattr(f, "__qualname__", getattr(f, "__name__", type(f).__name__))
        objclass = getattr(f, "__objclass__", None)
        if isinstance(objclass, type) and not isinstance(owner, types.ModuleType) and owner is None:
            return ["descriptor", self.cls(objclass, depth + 1), qualname]
        if isinstance(owner, types.ModuleType) or owner is None:
            mod = owner if isinstance(owner, types.ModuleType) else sys.modules.get(module or "")
            if mod is not None and not is_library_module(mod):
                self.volatile(
                    f"{qualname} is compiled code from {mod.__name__!r}, which is not an installed package; "
                    "install it as a package or wrap it in a Python function"
                )
            return ["builtin", module or (mod.__name__ if mod else None), qualname, _version_of(module)]
        return ["bound-builtin", qualname, self.canonical(owner, depth + 1)]

    def _reads(self, f: types.FunctionType, code: types.CodeType, depth: int) -> Any:
        reads = _code_reads(code)
        glb = f.__globals__
        out: dict[str, Any] = {}
        for name in sorted(reads.globals):
            if name not in glb:
                continue  # a builtin
            out[name] = self._value(glb[name], tuple(sorted(reads.globals[name])), depth + 1)
        imports: dict[str, Any] = {}
        for name in sorted(reads.imports):
            target = name
            if name.startswith("."):
                try:
                    target = importlib.util.resolve_name(name, glb.get("__package__") or "")
                except (ImportError, ValueError):
                    continue
            module = sys.modules.get(target)
            if module is None:
                continue
            imports[name] = self.module(module, tuple(sorted(reads.imports[name])), depth + 1)
        if imports:
            out["<imports>"] = imports
        return out

    def _value(self, value: Any, chains: tuple[tuple[str, ...], ...], depth: int) -> Any:
        if isinstance(value, types.ModuleType):
            return self.module(value, chains, depth)
        return self.canonical(value, depth)

    # -- modules and classes ------------------------------------------------------------
    def module(self, module: types.ModuleType, chains: tuple[tuple[str, ...], ...] | None, depth: int) -> Any:
        """A module: library modules by name; of user modules, the attributes read (``chains``) or all."""
        if is_library_module(module):
            return ["module", module.__name__, _version_of(module.__name__)]
        whole = chains is None or not chains or any(len(c) == 0 for c in chains)
        if whole:
            ref = self.visit(module, "module")
            if ref is not None:
                return ref
            members = {
                k: self._value(v, (), depth + 1)
                for k, v in sorted(vars(module).items())
                if not (k.startswith("__") and k.endswith("__"))
            }
            return ["user-module", module.__name__, members]
        assert chains is not None
        reached: dict[str, Any] = {}
        for chain in chains:
            obj: Any = module
            used: list[str] = []
            for attr in chain:
                if not isinstance(obj, types.ModuleType) or is_library_module(obj):
                    break
                obj = getattr(obj, attr, _MISSING)
                used.append(attr)
                if obj is _MISSING:
                    break
            key = ".".join(used)
            if key in reached:
                continue
            if obj is _MISSING:
                reached[key] = "<missing>"
            elif isinstance(obj, types.ModuleType):
                rest = chain[len(used) :]
                reached[key] = self.module(obj, (rest,) if rest else None, depth + 1)
            else:
                reached[key] = self.canonical(obj, depth + 1)
        return ["user-module", module.__name__, reached]

    def cls(self, cls: type, depth: int = 0) -> Any:
        """A class: library classes by name; user classes by their bases, methods and attributes."""
        if not _is_user_class(cls):
            return ["type", cls.__module__, cls.__qualname__, _version_of(cls.__module__)]
        ref = self.visit(cls, "class")
        if ref is not None:
            return ref
        generated = any(hasattr(cls, a) for a in ("__dataclass_fields__", "_fields", "__attrs_attrs__"))
        members: dict[str, Any] = {}
        for k, v in sorted(vars(cls).items()):
            if k in _CLASS_SKIP or isinstance(v, (types.MemberDescriptorType, types.GetSetDescriptorType)):
                continue
            if isinstance(v, types.FunctionType):
                optional = generated and v.__code__.co_filename.startswith("<")
                members[k] = self.function(v, depth + 1, source_optional=optional)
            elif isinstance(v, property):
                members[k] = ["property", *(self.canonical(g, depth + 1) for g in (v.fget, v.fset, v.fdel))]
            elif isinstance(v, (staticmethod, classmethod)):
                members[k] = self.function(v, depth + 1)
            elif k.startswith("__") and k.endswith("__") and not callable(v):
                continue  # __hash__ = None, __match_args__ ...: derived from the rest
            else:
                members[k] = self.canonical(v, depth + 1)
        bases = [self.cls(b, depth + 1) for b in cls.__bases__]
        return ["class", cls.__module__, cls.__qualname__, bases, members]


def _is_function_like(obj: Any) -> bool:
    return isinstance(
        obj,
        (
            types.FunctionType,
            types.MethodType,
            functools.partial,
            types.BuiltinFunctionType,
            staticmethod,
            classmethod,
            *_DESCRIPTOR_TYPES,
        ),
    )


def _is_user_class(cls: type) -> bool:
    module = cls.__module__
    if module in ("builtins", "__builtin__"):
        return False
    return not is_library_module(module)


def _is_user(obj: Any) -> bool:
    return _is_user_class(type(obj))


def _inspectable_state(obj: Any) -> dict[str, Any] | None:
    """``vars(obj)`` plus its slots; None when it has neither (or only a custom ``__reduce__`` says more)."""
    try:
        state: dict[str, Any] | None = dict(vars(obj))
    except TypeError:
        state = None
    slots: list[str] = []
    for klass in type(obj).__mro__:
        names = klass.__dict__.get("__slots__", ())
        slots.extend([names] if isinstance(names, str) else list(names))
    if slots:
        state = dict(state or {})
        for s in slots:
            if s not in ("__dict__", "__weakref__") and hasattr(obj, s):
                state[s] = getattr(obj, s)
    if state is None:
        return None
    cls = type(obj)
    custom_reduce = cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__
    if not state and custom_reduce:
        return None
    return state


_local = threading.local()


@contextlib.contextmanager
def hashing_session() -> Iterator[_Session]:
    """Share one traversal (and its volatility) between several ``canonical``/``function_token`` calls.

    Sessions nest; the reasons a nested session found volatile are added to the enclosing one.
    """
    stack: list[_Session] = _local.__dict__.setdefault("stack", [])
    session = _Session()
    stack.append(session)
    try:
        yield session
    finally:
        stack.pop()
        if stack:
            for reason in session.reasons:
                stack[-1].volatile(reason)


def _current() -> _Session:
    stack: list[_Session] = _local.__dict__.setdefault("stack", [])
    return stack[-1] if stack else _Session()


def canonical(obj: Any, depth: int = 0, _seen: Any = None) -> Any:
    """A JSON-serializable, order-independent description of ``obj`` for hashing.

    Within :func:`hashing_session` it shares the session's memory of visited objects and
    records why the description is volatile; outside one, volatility is not reported.
    """
    return _current().canonical(obj, depth)


def function_token(f: Callable[..., Any], depth: int = 0, _seen: Any = None) -> Any:
    """Canonical description of a Python function and the user code it reaches (see module docs)."""
    return _current().function(f, depth)


def fingerprint_report(*parts: Any) -> FingerprintReport:
    """The fingerprint of ``parts`` and the reasons it is volatile (if any)."""
    with hashing_session() as session:
        payload = json.dumps([session.canonical(p) for p in parts], sort_keys=True, default=str)
        return FingerprintReport(_hash_bytes(payload.encode("utf-8"))[:24], tuple(session.reasons))


def fingerprint_of(*parts: Any) -> str:
    """SHA-256 hex digest (first 24 characters) of the canonical form of ``parts``."""
    return fingerprint_report(*parts).digest
