"""LF fingerprints cover the user code they reach: edited and reloaded helpers give new votes (issue 9)."""

from __future__ import annotations

import importlib
import itertools
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench.lf import ABSTAIN, LFEngine, labeling_function, vectorized
from workbench.lf._fingerprint import is_library_module

SPAM = 1
_uid = itertools.count()


def frame() -> pd.DataFrame:
    texts = ["buy now", "free money", "nice song", "buy free stuff", None, "love it"]
    return pd.DataFrame({"text": texts}, index=pd.Index([f"r{i}" for i in range(len(texts))], name="id"))


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Write (and rewrite) helper modules in a directory on sys.path; import or reload them."""
    root = tmp_path / "user_code"
    root.mkdir()
    sys.path.insert(0, str(root))
    names: list[str] = []

    def write(name: str, source: str) -> ModuleType:
        path = root / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        shutil.rmtree(root / "__pycache__", ignore_errors=True)  # no stale bytecode within one second
        importlib.invalidate_caches()
        if name in sys.modules:
            return importlib.reload(sys.modules[name])
        names.append(name)
        return importlib.import_module(name)

    yield write
    sys.path.remove(str(root))
    for name in names:
        sys.modules.pop(name, None)


def engine_for(tmp_path: Path, *lfs: Any) -> LFEngine:
    engine = LFEngine(cache_dir=tmp_path / "lf_cache", n_jobs=1, progress=False, timeout=None)
    for lf in lfs:
        engine.add(lf)
    return engine


def test_editing_and_reloading_a_helper_module_gives_new_votes(tmp_path: Path, modules: Any) -> None:
    helper, lfmod = f"wb_helper_{next(_uid)}", f"wb_lfs_{next(_uid)}"
    modules(helper, "def is_spam(text):\n    return 'buy' in text\n")
    lfs = modules(
        lfmod,
        f"""
        import {helper}
        from workbench.lf import labeling_function, ABSTAIN

        @labeling_function()
        def spammy(x):
            return 1 if isinstance(x.text, str) and {helper}.is_spam(x.text) else ABSTAIN
        """,
    )
    df = frame()
    first = engine_for(tmp_path, lfs.spammy).apply([("d1", df)])
    assert first.L[:, 0].tolist() == [1, -1, -1, 1, -1, -1]
    assert not lfs.spammy.volatile, lfs.spammy.volatile_reason
    fp_before = lfs.spammy.fingerprint

    modules(helper, "def is_spam(text):\n    return 'free' in text  # edited\n")
    # The LF object itself was not rebuilt: its fingerprint follows the reloaded module.
    assert lfs.spammy.fingerprint != fp_before
    lfs = modules(lfmod, Path(lfs.__file__).read_text())  # and re-adding a rebuilt LF works the same
    again = engine_for(tmp_path, lfs.spammy).apply([("d1", df)])  # a new session, same cache directory
    assert again.computed["spammy"] == ["d1"], "stale votes served from the cache"
    assert again.L[:, 0].tolist() == [-1, 1, -1, 1, -1, -1]


def test_transitive_helpers_in_two_modules(tmp_path: Path, modules: Any) -> None:
    words, check = f"wb_words_{next(_uid)}", f"wb_check_{next(_uid)}"
    modules(words, "SPAM_WORDS = ['buy']\n\ndef normalise(t):\n    return t.lower()\n")
    modules(
        check,
        f"""
        import {words}

        def is_spam(text):
            return any(w in {words}.normalise(text) for w in {words}.SPAM_WORDS)
        """,
    )
    # The LF lives in this test file; it reaches check.is_spam -> words.normalise / words.SPAM_WORDS.
    checker = sys.modules[check]

    @labeling_function(name="two_hops")
    def two_hops(x: Any) -> int:
        return SPAM if isinstance(x.text, str) and checker.is_spam(x.text) else ABSTAIN

    engine = engine_for(tmp_path, two_hops)
    df = frame()
    assert engine.apply([("d1", df)]).L[:, 0].tolist() == [1, -1, -1, 1, -1, -1]
    fp = two_hops.fingerprint
    modules(words, "SPAM_WORDS = ['money', 'song']\n\ndef normalise(t):\n    return t.lower()\n")  # third module
    assert two_hops.fingerprint != fp
    result = engine.apply([("d1", df)])
    assert result.computed["two_hops"] == ["d1"]
    assert result.L[:, 0].tolist() == [-1, 1, 1, -1, -1, -1]
    fp = two_hops.fingerprint
    modules(words, "SPAM_WORDS = ['money', 'song']\n\ndef normalise(t):\n    return t.upper()\n")  # helper's code
    assert two_hops.fingerprint != fp
    assert engine.apply([("d1", df)]).L[:, 0].tolist() == [-1] * 6


def test_methods_of_user_classes_and_instances_are_covered(modules: Any) -> None:
    name = f"wb_cls_{next(_uid)}"
    src = "class Matcher:\n    def __init__(self, word):\n        self.word = word\n    def __call__(self, t):\n"
    mod = modules(name, src + "        return self.word in t\n")

    @labeling_function(resources={"m": mod.Matcher("buy")})
    def by_matcher(x: Any, m: Any) -> int:
        return SPAM if m(x.text) else ABSTAIN

    fp = by_matcher.fingerprint
    by_matcher._resources["m"].word = "free"  # instance state
    assert by_matcher.fingerprint != fp
    fp = by_matcher.fingerprint
    mod = modules(name, src + "        return self.word not in t\n")  # the method's code
    by_matcher._resources["m"].__class__ = mod.Matcher
    assert by_matcher.fingerprint != fp
    assert not by_matcher.volatile, by_matcher.volatile_reason


def test_closure_cells_defaults_and_globals(tmp_path: Path) -> None:
    words = ["buy"]

    @labeling_function(name="closure")
    def closure(x: Any) -> int:
        return SPAM if isinstance(x.text, str) and any(w in x.text for w in words) else ABSTAIN

    engine = engine_for(tmp_path, closure)
    df = frame()
    assert engine.apply([("d1", df)]).L[:, 0].tolist() == [1, -1, -1, 1, -1, -1]
    words[0] = "love"  # the closure cell's value changed
    result = engine.apply([("d1", df)])
    assert result.computed["closure"] == ["d1"]
    assert result.L[:, 0].tolist() == [-1, -1, -1, -1, -1, 1]

    def make(word: str = "buy") -> Any:
        @labeling_function(name="d")
        def d(x: Any, w: str = word) -> int:
            return SPAM if w in x.text else ABSTAIN

        return d

    assert make("buy").fingerprint != make("free").fingerprint  # default argument
    assert make("buy").fingerprint == make("buy").fingerprint


def test_snorkel_resources_and_preprocessors_reach_user_code(modules: Any) -> None:
    from snorkel.labeling import LabelingFunction as SnorkelLF
    from snorkel.preprocess import preprocessor

    name = f"wb_pre_{next(_uid)}"
    mod = modules(name, "def clean(t):\n    return t.strip()\n")

    @preprocessor()
    def cleaned(x: Any) -> Any:
        x.clean = mod.clean(x.text)
        return x

    def f(x: Any, word: str) -> int:
        return SPAM if word in x.clean else ABSTAIN

    engine = LFEngine(n_jobs=1, progress=False)
    engine.add(SnorkelLF("snorkel_lf", f, resources={"word": "buy"}, pre=[cleaned]))
    fp = engine.get("snorkel_lf").fingerprint
    modules(name, "def clean(t):\n    return t.strip().lower()\n")
    assert engine.get("snorkel_lf").fingerprint != fp
    assert engine.add(SnorkelLF("snorkel_lf", f, resources={"word": "free"}, pre=[cleaned])) is True


def test_recursive_helpers_and_self_referencing_data_terminate(modules: Any) -> None:
    a, b = f"wb_ping_{next(_uid)}", f"wb_pong_{next(_uid)}"
    modules(a, f"def ping(n):\n    import {b}\n    return 0 if n <= 0 else {b}.pong(n - 1)\n")
    modules(b, f"import {a}\n\ndef pong(n):\n    return n if n <= 0 else {a}.ping(n - 1)\n")
    ping = sys.modules[a].ping
    loop: list[Any] = [1]
    loop.append(loop)

    @labeling_function(resources={"loop": loop})
    def cyclic(x: Any, loop: Any) -> int:
        return SPAM if ping(3) == 0 else ABSTAIN

    report = cyclic.fingerprint_report()
    assert len(report.digest) == 24 and not report.volatile, report.volatile_reasons
    assert cyclic.fingerprint == cyclic.fingerprint


def test_code_without_source_is_volatile_recomputed_and_never_cached(tmp_path: Path) -> None:
    ns: dict[str, Any] = {"labeling_function": labeling_function, "ABSTAIN": ABSTAIN}
    exec("@labeling_function()\ndef no_source(x):\n    return 1 if x.text else ABSTAIN\n", ns)
    lf = ns["no_source"]
    assert lf.volatile
    assert "source" in (lf.volatile_reason or "") and "no_source" in (lf.volatile_reason or "")

    @vectorized(column="text", resources={"gen": (i for i in range(3))})
    def opaque(texts: pd.Series, gen: Any) -> Any:
        return np.full(len(texts), ABSTAIN)

    assert opaque.volatile and "generator" in (opaque.volatile_reason or "")

    @labeling_function()
    def steady(x: Any) -> int:
        return ABSTAIN

    engine = engine_for(tmp_path, lf, opaque, steady)
    df = frame().fillna("")
    for _ in range(2):
        result = engine.apply([("d1", df)])
        assert result.computed["no_source"] == ["d1"] and result.computed["opaque"] == ["d1"]
        assert set(result.volatile) == {"no_source", "opaque"}
        assert result.L[:, 0].tolist() == [1, 1, 1, 1, -1, 1]
    assert result.cache_hits == ["steady"]
    cached = {p.name.split("-")[0] for p in (tmp_path / "lf_cache").iterdir()}
    assert cached == {steady.fingerprint}, "a volatile LF was written to the disk cache"


def test_library_code_is_named_not_hashed() -> None:
    import json as json_module

    import workbench

    assert is_library_module(json_module) and is_library_module(np) and is_library_module(workbench)
    assert not is_library_module(sys.modules[__name__])
