"""The dependency points one way (widgets -> workbench), and the public API is deliberate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import workbench as wb

UI_PACKAGES = ("ipywidgets", "traitlets", "panel", "param", "bokeh", "IPython", "anywidget", "widgets")
REPO = Path(__file__).resolve().parents[1]


def test_importing_workbench_loads_no_ui_package() -> None:
    code = (
        "import sys, json, workbench, workbench.project, workbench.datasets, workbench.cli;"
        "import workbench.schema, workbench.store, workbench.data;"
        f"print(json.dumps(sorted(m for m in {UI_PACKAGES!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_no_ui_imports_in_engine_source() -> None:
    offenders = []
    for path in (REPO / "workbench").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                stripped.split()[1].split(".")[0] == ui for ui in UI_PACKAGES
            ):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {stripped}")
    assert offenders == []


def test_toplevel_all_is_pinned() -> None:
    assert sorted(wb.__all__) == sorted(
        [
            "ABSTAIN",
            "LABEL_SOURCES",
            "QUEUE_STRATEGIES",
            "Assignment",
            "Draft",
            "QualityConfig",
            "Subscription",
            "ConflictingContentError",
            "DataError",
            "DataVersion",
            "DuplicateIdError",
            "IdempotencyError",
            "IntegrityError",
            "LFError",
            "LFTimeoutError",
            "ProjectClosedError",
            "StoreIntegrityError",
            "LabelEvent",
            "LabelValidationError",
            "NotFittedError",
            "Project",
            "ProjectExistsError",
            "ProjectNotFoundError",
            "Question",
            "Schema",
            "SchemaError",
            "StoreCorruptedError",
            "TrainingRun",
            "UnknownExampleError",
            "WorkbenchError",
            "__version__",
            "active",
            "annotation",
            "datasets",
            "feedback",
            "lf",
            "migrations",
            "models",
            "quality",
            "versions",
        ]
    )
    for name in wb.__all__:
        assert hasattr(wb, name), name


def test_every_package_init_sets_all() -> None:
    for init in list((REPO / "workbench").rglob("__init__.py")) + list((REPO / "widgets").rglob("__init__.py")):
        assert "__all__" in init.read_text(encoding="utf-8"), f"{init.relative_to(REPO)} lacks __all__"


def test_exceptions_subclass_the_builtin_a_user_expects() -> None:
    assert issubclass(wb.DataError, ValueError)
    assert issubclass(wb.LabelValidationError, ValueError)
    assert issubclass(wb.ProjectNotFoundError, FileNotFoundError)
    assert issubclass(wb.UnknownExampleError, KeyError)
    from sklearn.exceptions import NotFittedError

    assert issubclass(wb.NotFittedError, NotFittedError)
    assert str(wb.UnknownExampleError("plain message")) == "plain message"


def test_widgets_all_is_pinned_and_lazy() -> None:
    code = (
        "import sys, json, widgets;"
        "print(json.dumps([sorted(widgets.__all__), 'ipywidgets' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    names, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert names == [
        "Annotator",
        "DrilldownWidget",
        "LFDashboard",
        "QualityDashboard",
        "ReviewApp",
        "accuracy_chart",
        "conflict_heatmap",
        "coverage_chart",
        "label_model_chart",
        "lf_overview_chart",
        "reliability_chart",
    ]
    assert loaded is False  # `import widgets` alone loads no UI stack


def test_widgets_resolve_lazily() -> None:
    import widgets

    assert widgets.LFDashboard.__name__ == "LFDashboard"
    assert callable(widgets.coverage_chart)


def test_widgets_use_only_the_public_engine_api() -> None:
    offenders = []
    for path in (REPO / "widgets").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            words = line.split()
            if len(words) >= 2 and words[0] in ("from", "import") and words[1].startswith("workbench._"):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []


#: Project's public core (the namespaces are separate): pinned the way __all__ is.
PROJECT_CORE = [
    "add_data", "add_gold", "annotate", "annotate_many", "close", "create", "data_versions", "delete", "events",
    "example", "examples", "gold", "guideline_version", "guideline_versions", "history", "image_column", "labels",
    "n_listeners", "on", "open", "path", "retract", "schema", "schema_version", "schema_versions", "text_column",
    "update_guidelines", "update_schema", "verify",
]
NAMESPACE_HOMES = {
    "lfs": ("workbench.lf", "ProjectLFs"),
    "models": ("workbench.models", "ProjectModels"),
    "versions": ("workbench.versions", "ProjectVersions"),
    "annotation": ("workbench.annotation", "ProjectAnnotation"),
    "quality": ("workbench.quality", "ProjectQuality"),
    "feedback": ("workbench.feedback", "ProjectFeedback"),
    "migrations": ("workbench.migrations", "ProjectMigrations"),
}


def _public(obj: object) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def test_project_core_is_small_and_pinned(tmp_path: Path) -> None:
    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    names = [n for n in _public(project) if n not in NAMESPACE_HOMES]
    assert names == sorted(PROJECT_CORE)
    assert len(names) <= 30
    assert set(_public(project)) - set(names) == set(NAMESPACE_HOMES)


def test_each_namespace_is_the_class_of_its_own_package(tmp_path: Path) -> None:
    import importlib

    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    for attr, (package, cls_name) in NAMESPACE_HOMES.items():
        cls = getattr(importlib.import_module(package), cls_name)
        ns = getattr(project, attr)
        assert type(ns) is cls, attr
        assert type(ns).__module__.startswith(package + "."), attr
        assert cls.__doc__ and "Examples" in cls.__doc__, f"{cls_name} needs a docstring with an example"


def test_no_project_mixin_modules() -> None:
    assert sorted(p.name for p in (REPO / "workbench").glob("_project*.py")) == []
    assert wb.Project.__mro__ == (wb.Project, object)  # no mixin classes: the parts are objects it holds
    source = (REPO / "workbench" / "project.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 600  # Project is a short file: the capabilities live in their packages


def test_removed_flat_names_point_to_their_new_home(tmp_path: Path) -> None:
    import pytest

    from workbench._moved import MOVED

    project = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"]))
    for old, new in MOVED.items():
        with pytest.raises(AttributeError, match=new.split(" ")[0].replace(".", r"\.")):
            getattr(project, old)
        home = new.split(" ")[0].split(".")
        if len(home) == 3:  # project.<namespace>.<name>: the new home exists
            assert hasattr(getattr(project, home[1]), home[2]), new
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        project.nonsense  # noqa: B018
