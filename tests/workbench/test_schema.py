from __future__ import annotations

from pathlib import Path

import pytest

import workbench as wb
from workbench.schema import NO_GUIDELINES, guideline_version_of


def test_single_question_schema_accepts_bare_values(spam_schema: wb.Schema) -> None:
    assert spam_schema.is_single
    assert spam_schema.validate("spam") == {"spam": "spam"}
    assert spam_schema.label_ids("spam", "ham") == (1, 0)


def test_conditions_are_checked(seatbelt_schema: wb.Schema) -> None:
    assert seatbelt_schema.validate({"person": "yes", "seatbelt": "no"}) == {"person": "yes", "seatbelt": "no"}
    assert seatbelt_schema.validate({"person": "no"}) == {"person": "no"}
    with pytest.raises(wb.LabelValidationError, match="only asked when person in"):
        seatbelt_schema.validate({"person": "no", "seatbelt": "yes"})
    # a follow-up on its own is fine when earlier answers satisfy the condition
    assert seatbelt_schema.validate({"seatbelt": "unsure"}, context={"person": "yes"}) == {"seatbelt": "unsure"}
    with pytest.raises(wb.LabelValidationError, match="Answer the earlier question"):
        seatbelt_schema.validate({"seatbelt": "unsure"})


def test_versions_are_content_hashes(seatbelt_schema: wb.Schema) -> None:
    same = wb.Schema.from_dict(seatbelt_schema.to_dict(), guidelines=seatbelt_schema.guidelines)
    assert same.version == seatbelt_schema.version
    assert same.guideline_version == seatbelt_schema.guideline_version
    changed = wb.Schema(
        "seatbelts",
        [wb.Question("person", ["yes", "no"]), wb.Question("seatbelt", ["yes", "no"], when={"person": "yes"})],
    )
    assert changed.version != seatbelt_schema.version
    assert changed.guideline_version == NO_GUIDELINES
    assert guideline_version_of("a\r\nb") == guideline_version_of("a\nb")
    assert seatbelt_schema.version.startswith("s-") and len(seatbelt_schema.version) == 14


def test_guidelines_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("# Guide\nLabel spam.", encoding="utf-8")
    s1 = wb.Schema.single("spam", ["ham", "spam"], guidelines=str(path))
    s2 = wb.Schema.single("spam", ["ham", "spam"], guidelines=path)
    assert s1.guidelines == "# Guide\nLabel spam." == s2.guidelines
    assert s1.guideline_version == guideline_version_of("# Guide\nLabel spam.")
    with pytest.raises(wb.SchemaError, match="does not exist"):
        wb.Schema.single("spam", ["ham", "spam"], guidelines=str(tmp_path / "missing.md"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: wb.Question("q", choices=["only"]), "at least two choices"),
        (lambda: wb.Question("q", choices="yes/no"), "must be a list of strings"),
        (lambda: wb.Question("q", choices=["a", "a"]), "more than once"),
        (lambda: wb.Question("q", choices=[0, 1]), "write numeric classes as strings"),
        (lambda: wb.Question("", choices=["a", "b"]), "non-empty string"),
        (lambda: wb.Question(" q", choices=["a", "b"]), "white space"),
        (lambda: wb.Question("q", choices=["a", "b"], when={}), "non-empty mapping"),
        (lambda: wb.Schema("s", []), "at least one Question"),
        (lambda: wb.Schema("s", ["q"]), "takes Question objects"),
        (lambda: wb.Schema("s", [wb.Question("q", ["a", "b"]), wb.Question("q", ["a", "b"])]), "two questions"),
        (
            lambda: wb.Schema("s", [wb.Question("b", ["x", "y"], when={"a": "x"}), wb.Question("a", ["x", "y"])]),
            "not an earlier question",
        ),
        (
            lambda: wb.Schema("s", [wb.Question("a", ["x", "y"]), wb.Question("b", ["x", "y"], when={"a": "z"})]),
            "not choices of 'a'",
        ),
    ],
)
def test_schema_error_catalogue(build, message: str) -> None:
    with pytest.raises(wb.SchemaError, match=message):
        build()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("maybe", "is not a choice of question 'spam'"),
        ({"spam": "maybe"}, "is not a choice"),
        ({"eggs": "spam"}, "has no question 'eggs'"),
        (1, "must be a choice"),
        ({}, "label is empty"),
    ],
)
def test_label_validation_catalogue(spam_schema: wb.Schema, value: object, message: str) -> None:
    with pytest.raises(wb.LabelValidationError, match=message):
        spam_schema.validate(value)


def test_bare_value_rejected_for_multi_question(seatbelt_schema: wb.Schema) -> None:
    with pytest.raises(wb.LabelValidationError, match="must be a dict"):
        seatbelt_schema.validate("yes")


def test_question_lookup(seatbelt_schema: wb.Schema) -> None:
    with pytest.raises(wb.SchemaError, match="name the one you mean"):
        seatbelt_schema.question()
    assert seatbelt_schema.question("seatbelt").cardinality == 3
    assert seatbelt_schema.label_ids("unsure", question="seatbelt") == (2,)
