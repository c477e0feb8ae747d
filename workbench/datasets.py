"""Real and demo datasets.

Real data is read from a directory (by default the one named by the ``WORKBENCH_DATA_DIR``
environment variable); users who are online may download it once with ``download=True``
(checksummed, cached). Tests never download. :func:`load_demo` builds a deterministic offline
dataset so the quickstart runs anywhere.
"""

from __future__ import annotations

import html
import io
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from workbench._stats import sha256_file as _sha256
from workbench.exceptions import DataError

__all__ = [
    "WRENCH_DATASETS",
    "YOUTUBE_FILES",
    "YOUTUBE_URL",
    "data_dir",
    "download_youtube_spam",
    "load_demo",
    "load_wrench",
    "load_youtube_spam",
]

#: WRENCH weak-supervision tasks (folders ``wrench_<name>`` of the data directory) and the metric
#: WRENCH reports for each: accuracy, or the F1 of class 1 for the binary imbalanced ones.
WRENCH_DATASETS: dict[str, str] = {
    "youtube": "accuracy",
    "yelp": "accuracy",
    "imdb": "accuracy",
    "basketball": "f1",
    "commercial": "f1",
    "tennis": "f1",
    "semeval": "accuracy",
}

#: The five CSV files of the UCI YouTube Spam Collection with their SHA-256 sums.
YOUTUBE_FILES: dict[str, str] = {
    "Youtube01-Psy.csv": "19797e6c77690e3c8809cfd2853ae7341390636367ba66cf5d4f4083f0b88535",
    "Youtube02-KatyPerry.csv": "902c614f8ef24f987d6f614d7e6111aa5160b89a0646b68e007bd6044a3d123b",
    "Youtube03-LMFAO.csv": "702ef589860a1831956f527760a3d9737ef8a07ab36c7de35b92b8898b8c3928",
    "Youtube04-Eminem.csv": "92f54eb6b22fdf3b7ae85e1f500e5aa7442edd025e504b988a97078756187e76",
    "Youtube05-Shakira.csv": "1d8ab47b71e8037c51183b2fc62f0591a48a4b54f3a4f5d9d3043113b274e98e",
}
#: Where the UCI Machine Learning Repository publishes the collection (dataset 380).
YOUTUBE_URL = "https://archive.ics.uci.edu/static/public/380/youtube+spam+collection.zip"


def data_dir(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The directory holding real datasets: ``path``, else ``$WORKBENCH_DATA_DIR``, else None."""
    if path is not None:
        return Path(path)
    env = os.environ.get("WORKBENCH_DATA_DIR")
    return Path(env) if env else None


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "labeling-workbench" / "youtube_spam"


def download_youtube_spam(
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    url: str = YOUTUBE_URL,
    timeout: float = 60.0,
) -> Path:
    """Download the YouTube Spam Collection once, verify every file's SHA-256, and cache it.

    Parameters
    ----------
    cache_dir : path-like, optional
        Where to keep the files (default ``~/.cache/labeling-workbench/youtube_spam``).
    url : str
        The zip archive's address (any URL ``urllib`` opens, including ``file://``).
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    Path
        The folder holding the five verified CSV files.

    Raises
    ------
    DataError
        If the download fails, a file is missing from the archive, or a checksum differs.
    """
    target = Path(cache_dir) if cache_dir is not None else _default_cache()
    if all((target / f).is_file() and _sha256(target / f) == s for f, s in YOUTUBE_FILES.items()):
        return target
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            payload = resp.read()
    except OSError as exc:
        raise DataError(
            f"Could not download the YouTube Spam Collection from {url} ({exc}). Download it by hand and pass "
            f"its folder as data_dir=, or set WORKBENCH_DATA_DIR."
        ) from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise DataError(f"The file at {url} is not a zip archive; the download was damaged.") from None
    members = {Path(n).name: n for n in archive.namelist()}
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        for name, digest in YOUTUBE_FILES.items():
            if name not in members:
                raise DataError(f"The archive from {url} lacks {name}; it is not the YouTube Spam Collection.")
            out = Path(tmp) / name
            out.write_bytes(archive.read(members[name]))
            got = _sha256(out)
            if got != digest:
                raise DataError(
                    f"{name} from {url} has SHA-256 {got}, expected {digest}. The download is damaged or the "
                    f"published file changed; nothing was cached."
                )
        for name in YOUTUBE_FILES:
            shutil.move(str(Path(tmp) / name), target / name)
    return target


def _find_youtube_dir(path: str | os.PathLike[str] | None) -> Path | None:
    base = data_dir(path)
    if base is None:
        return None
    for candidate in (base, base / "youtube_spam"):
        if all((candidate / f).is_file() for f in YOUTUBE_FILES):
            return candidate
    return None


def _readable(text: pd.Series) -> pd.Series:
    """Decode HTML entities (once) and drop the trailing U+FEFF of the published YouTube texts."""
    return text.map(lambda t: html.unescape(t).rstrip("\ufeff") if isinstance(t, str) else t)


def load_youtube_spam(
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    verify: bool = True,
) -> pd.DataFrame:
    """Load the UCI YouTube Spam Collection (1,956 comments on five music videos).

    Parameters
    ----------
    path : path-like, optional
        The folder with the five CSV files, or a folder holding ``youtube_spam/``. Default:
        ``$WORKBENCH_DATA_DIR``.
    download : bool, default False
        If the files are not found locally, download them (checksummed) into ``cache_dir``.
    cache_dir : path-like, optional
        See :func:`download_youtube_spam`.
    verify : bool, default True
        Check each file's SHA-256 against the published sums.

    Returns
    -------
    DataFrame
        Columns ``id`` (the COMMENT_ID), ``author``, ``date``, ``text``, ``label`` (``"spam"`` or
        ``"ham"``) and ``video``. Three rows that repeat another row exactly (same id and
        content; two in Eminem, one in Shakira) are dropped, leaving 1,953. Never use ``date``
        as a feature: every Eminem spam row has an empty date (a label leak).

    Notes
    -----
    The published files escape some characters as HTML entities (``i&#39;m``, ``&amp;``,
    ``&quot;``: 263 comments and two author names), which people would read literally. The
    loader decodes them once, with :func:`html.unescape`, in ``text`` and ``author``; it
    also removes the U+FEFF (zero-width no-break space) that ends 1,548 comments (and one
    author name), an export artefact nobody can see. Nothing else changes: markup in the
    text (``<br />``, ``<a href=...>``) is kept as the commenter wrote it, so every page that
    shows the text must escape it. The checksums are verified on the files as published,
    before decoding. Projects that ingested the raw text with an older version hold the
    undecoded text; a re-ingest of the decoded rows under the same ids is then refused as
    changed content.
    """
    folder = _find_youtube_dir(path)
    if folder is None:
        if not download:
            where = data_dir(path)
            raise DataError(
                f"The YouTube Spam Collection was not found (looked in {str(where) if where else 'nowhere'}: "
                f"set WORKBENCH_DATA_DIR or pass path=). Pass download=True to fetch it from UCI."
            )
        folder = download_youtube_spam(cache_dir)
    frames = []
    for name, digest in YOUTUBE_FILES.items():
        file = folder / name
        if verify and _sha256(file) != digest:
            raise DataError(f"{str(file)!r} does not match the published SHA-256; the file was modified.")
        df = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""])
        df["video"] = name.split("-", 1)[1].removesuffix(".csv")
        frames.append(df)
    data = pd.concat(frames, ignore_index=True)
    data = data.drop_duplicates().reset_index(drop=True)
    out = pd.DataFrame(
        {
            "id": data["COMMENT_ID"],
            "author": _readable(data["AUTHOR"]),
            "date": data["DATE"],
            "text": _readable(data["CONTENT"]),
            "label": np.where(data["CLASS"].astype(int) == 1, "spam", "ham"),
            "video": data["video"],
        }
    )
    if out["id"].duplicated().any():  # pragma: no cover - the published files have none left
        raise DataError("The YouTube files hold conflicting rows for one COMMENT_ID.")
    return out


_SPAM_TEMPLATES = [
    "check out my channel {url}",
    "Subscribe to my channel please!! {url}",
    "free gift cards here {url} :)",
    "please like and subscribe, I make {topic} videos",
    "Hey guys check out my new {topic} video {url}",
    "win an iphone now {url}",
    "sub4sub anyone? {topic} channel here",
    "Make money from home!!! visit {url}",
]
_HAM_TEMPLATES = [
    "this song is amazing, I love the {topic}",
    "who is still listening in {year}?",
    "the {topic} in this video is so good",
    "I can't stop listening to this",
    "best music video of {year}",
    "my sister showed me this song and now I love it",
    "the beat drop at {minute}:{second:02d} is perfect",
    "this reminds me of summer {year}",
]
_TOPICS = ["dance", "gaming", "makeup", "guitar", "cooking", "beat", "chorus", "voice"]


def load_demo(n: int = 400, *, random_state: int = 0) -> pd.DataFrame:
    """A deterministic, offline demo dataset of spam/ham comments (synthetic).

    Parameters
    ----------
    n : int, default 400
        Number of rows (at least 2).
    random_state : int, default 0
        Seed; the same seed always gives the same rows.

    Returns
    -------
    DataFrame
        Columns ``id`` (``"demo-0001"`` ...), ``text`` and ``label`` (``"spam"``/``"ham"``).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
        raise DataError(f"The 'n' parameter of load_demo must be an integer >= 2. Got {n!r} instead.")
    rng = np.random.default_rng(random_state)
    rows = []
    for k in range(int(n)):
        spam = bool(rng.random() < 0.5)
        tpl = _SPAM_TEMPLATES if spam else _HAM_TEMPLATES
        text = tpl[int(rng.integers(len(tpl)))].format(
            url=f"http://bit.ly/{rng.integers(10**5, 10**6)}",
            topic=_TOPICS[int(rng.integers(len(_TOPICS)))],
            year=int(rng.integers(2012, 2027)),
            minute=int(rng.integers(0, 4)),
            second=int(rng.integers(0, 60)),
        )
        if rng.random() < 0.15:  # noise: some labels disagree with the obvious cue
            text = text.upper()
        rows.append({"id": f"demo-{k + 1:04d}", "text": text, "label": "spam" if spam else "ham"})
    return pd.DataFrame(rows)


def load_wrench(name: str, split: str, *, path: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One split of a WRENCH task as a label matrix and gold: ``(L, y)``.

    Reads ``<data dir>/wrench_<name>/<split>.json`` (WRENCH's own JSON layout: one record per
    item with ``weak_labels`` and ``label``), where the data dir is ``path`` or
    ``$WORKBENCH_DATA_DIR``. WRENCH publishes these files with its benchmark
    (https://github.com/JieyuZ2/wrench); put the folder there.

    Parameters
    ----------
    name : str
        A key of :data:`WRENCH_DATASETS` (``"youtube"``, ``"yelp"`` ...).
    split : {"train", "valid", "test"}
        The split.
    path : path-like, optional
        The data directory (default: ``$WORKBENCH_DATA_DIR``).

    Returns
    -------
    L : ndarray of int8, shape (n_items, n_lfs)
        The votes, ``-1`` = abstain.
    y : ndarray of int64, shape (n_items,)
        Gold classes.
    """
    if name not in WRENCH_DATASETS:
        raise DataError(f"Unknown WRENCH task {name!r}. Expected one of {list(WRENCH_DATASETS)!r}.")
    if split not in ("train", "valid", "test"):
        raise DataError(f"The 'split' parameter of load_wrench must be 'train', 'valid' or 'test'. Got {split!r}.")
    root = data_dir(path)
    file = None if root is None else root / f"wrench_{name}" / f"{split}.json"
    if file is None or not file.is_file():
        raise DataError(
            f"WRENCH {name!r} ({split}) was not found"
            + (f" at {str(file)!r}" if file is not None else "")
            + ". Put WRENCH's wrench_<name>/<split>.json files in a data directory and pass path= or set "
              "WORKBENCH_DATA_DIR."
        )
    raw = json.loads(file.read_text(encoding="utf-8"))
    L = np.array([r["weak_labels"] for r in raw.values()], dtype=np.int8)
    y = np.array([r["label"] for r in raw.values()], dtype=np.int64)
    return L, y
