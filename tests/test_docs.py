"""The documentation site (``make docs``): it builds without a warning, its API page documents every
namespace and the public classes, and every notebook in ``notebooks/`` is a rendered page."""

from __future__ import annotations

import inspect
import json
import pydoc
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import workbench as wb
from workbench import exceptions
from workbench.annotation import ProjectAnnotation
from workbench.feedback import ProjectFeedback
from workbench.lf import ProjectLFs
from workbench.migrations import ProjectMigrations
from workbench.models import ProjectModels
from workbench.quality import ProjectQuality
from workbench.versions import ProjectVersions

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# (documented name, class): each namespace of a project, by the name the docs give it.
NAMESPACES = {
    "lfs": ("workbench.lf.ProjectLFs", ProjectLFs),
    "models": ("workbench.models.ProjectModels", ProjectModels),
    "versions": ("workbench.versions.ProjectVersions", ProjectVersions),
    "annotation": ("workbench.annotation.ProjectAnnotation", ProjectAnnotation),
    "quality": ("workbench.quality.ProjectQuality", ProjectQuality),
    "feedback": ("workbench.feedback.ProjectFeedback", ProjectFeedback),
    "migrations": ("workbench.migrations.ProjectMigrations", ProjectMigrations),
}
# Public objects outside the namespaces that the API page must document.
REQUIRED = [
    "workbench.Project",
    "workbench.Schema",
    "workbench.Question",
    "workbench.quality.QualityConfig",
    "workbench.annotation.Assignment",
    "workbench.annotation.Draft",
    "workbench.lf.labeling_function",
    "workbench.lf.keywords",
    "workbench.lf.regex",
    "workbench.lf.lexicon",
    "workbench.lf.threshold",
    "workbench.lf.vectorized",
    "workbench.lf.from_model",
    "workbench.lf.from_feedback",
    "workbench.models.LabelModel",
    "workbench.models.MajorityVote",
    "workbench.models.WeightedMajorityVote",
    "workbench.models.DawidSkene",
    "workbench.models.SnorkelLabelModel",
    "workbench.models.AutoLabelModel",
    *(f"workbench.exceptions.{name}" for name in exceptions.__all__),
]


def public_members(cls: type) -> list[str]:
    """The public names a class defines itself (methods, properties, documented attributes)."""
    return sorted(name for name in vars(cls) if not name.startswith("_"))


def anchors(html: str) -> set[str]:
    return set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', html))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Build the site from scratch into a temporary folder, exactly as ``make docs`` does."""
    out = tmp_path_factory.mktemp("docs")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert proc.returncode == 0, f"sphinx-build failed ({proc.returncode}):\n{proc.stderr}\n{proc.stdout}"
    return out / "html", proc.stderr


@pytest.mark.slow
def test_site_builds_without_warnings(site: tuple[Path, str]) -> None:
    html, stderr = site
    assert not re.search(r"WARNING|ERROR|CRITICAL", stderr), stderr
    assert (html / "index.html").is_file()
    assert (html / "api.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_api_page_documents_each_namespace_and_all_its_public_members(
    site: tuple[Path, str], namespace: str
) -> None:
    html = (site[0] / "api.html").read_text(encoding="utf-8")
    documented, cls = NAMESPACES[namespace]
    found = anchors(html)
    assert documented in found
    assert f"workbench.Project.{namespace}" in found  # the attribute on Project links to it
    missing = [m for m in public_members(cls) if f"{documented}.{m}" not in found]
    assert not missing, f"{documented} members missing from the API page: {missing}"


@pytest.mark.slow
def test_api_page_documents_the_project_core_and_the_public_classes(site: tuple[Path, str]) -> None:
    found = anchors((site[0] / "api.html").read_text(encoding="utf-8"))
    missing = [name for name in REQUIRED if name not in found]
    missing += [f"workbench.Project.{m}" for m in public_members(wb.Project) if f"workbench.Project.{m}" not in found]
    assert not missing, f"missing from the API page: {missing}"


def test_every_notebook_has_a_docs_page() -> None:
    assert len(NOTEBOOKS) >= 4
    links = {p.stem: json.loads(p.read_text(encoding="utf-8"))["path"] for p in (DOCS / "notebooks").glob("*.nblink")}
    assert sorted(links) == [nb.stem for nb in NOTEBOOKS]
    for stem, target in links.items():
        assert (DOCS / "notebooks" / target).resolve() == (ROOT / "notebooks" / f"{stem}.ipynb").resolve()
    toctree = (DOCS / "notebooks.rst").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in toctree


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_rendered_page(site: tuple[Path, str], notebook: Path) -> None:
    page = site[0] / "notebooks" / f"{notebook.stem}.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    nb = nbformat.read(notebook, as_version=4)
    title = next(line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                 if line.startswith("# "))[2:].strip()
    assert f"<h1>{title}" in html
    n_code = sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())
    assert html.count('class="cell_input') == n_code  # every code cell is shown (none executed)
    assert (site[0] / "notebooks.html").read_text(encoding="utf-8").count(f"{notebook.stem}.html") >= 1


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_help_on_a_namespace_shows_its_docstring_and_methods(tmp_path: Path, namespace: str) -> None:
    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    try:
        obj = getattr(project, namespace)
        text = pydoc.plain(pydoc.render_doc(obj))
        cls = NAMESPACES[namespace][1]
        assert inspect.cleandoc(cls.__doc__ or "").splitlines()[0] in text
        assert "Examples" in text
        methods = [m for m in public_members(cls) if inspect.isfunction(vars(cls)[m])]
        assert methods
        for m in methods:
            assert f"{m}(" in text
    finally:
        project.close()
