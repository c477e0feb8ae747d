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
    with pytest.raises(wb.SchemaError, match="does not exist"):  # a path by its look, whatever its suffix
        wb.Schema.single("spam", ["ham", "spam"], guidelines="guidelines/v2.markdown")
    assert wb.Schema.single("spam", ["ham", "spam"], guidelines="Spam: ads.").guidelines == "Spam: ads."


@pytest.mark.parametrize(("given", "match"), [
    ("", "are empty"), ("  \n ", "are empty"), (None, "must be the guideline text"),
    (b"x", "must be the guideline text"),
    ("guidelines/v2.markdown", "does not exist"), ("empty.md", "is empty"),
])
def test_update_guidelines_refuses_what_would_erase_or_misread_them(tmp_path: Path, given: object,
                                                                   match: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    p = wb.Project.create(tmp_path / "p", schema=wb.Schema.single("spam", ["ham", "spam"], guidelines="v1: ads"))
    before = p.guideline_version
    with pytest.raises(wb.SchemaError, match=match):
        p.update_guidelines(given)  # type: ignore[arg-type]
    assert p.guideline_version == before and p.schema.guidelines == "v1: ads"
    p.close()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: wb.Question("q", choices=["only"]), "at least two choices"),
        (lambda: wb.Question("q", choices="yes/no"), "must be a list of strings"),
        (lambda: wb.Question("q", choices=["a", "a"]), "more than once"),
        (lambda: wb.Question("q", choices=[0, 1]), "write numeric classes as strings"),  # type: ignore[list-item]
        (lambda: wb.Question("", choices=["a", "b"]), "non-empty string"),
        (lambda: wb.Question(" q", choices=["a", "b"]), "white space"),
        (lambda: wb.Question("q", choices=["a", "b"], when={}), "non-empty mapping"),
        (lambda: wb.Schema("s", []), "at least one Question"),
        (lambda: wb.Schema("s", ["q"]), "takes Question objects"),  # type: ignore[list-item]
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


# ---------------------------------------------------------------------- evolving a schema
TOX = wb.Schema.single("toxicity", ["ok", "toxic", "unsure"], guidelines="Toxic: insults or threats.")


def test_evolve_as_in_the_issue_keeps_order_and_records_what_each_choice_became() -> None:
    new = TOX.evolve(split={"toxic": ["harassment", "hate", "other"]}, rename={"ok": "fine"}, add=["spam"])
    assert new.question().choices == ("fine", "harassment", "hate", "other", "unsure", "spam")
    ch = new.changes
    assert ch is not None and ch.base_version == TOX.version
    assert ch.targets("toxicity", "ok") == ("fine",)
    assert ch.targets("toxicity", "toxic") == ("harassment", "hate", "other")
    assert ch.targets("toxicity", "unsure") == ("unsure",)
    assert ch.targets("toxicity", "nope") is None and ch.targets("nope", "ok") is None
    assert len(ch.describe()) == 3 and any("split" in s for s in ch.describe())
    assert new.version != TOX.version
    assert new.guidelines == TOX.guidelines and new.guideline_version == TOX.guideline_version
    assert TOX.changes is None  # the original is untouched
    assert new.with_guidelines("other text").changes == ch  # a guideline change keeps the record


def test_merge_into_a_new_or_an_existing_choice_and_remove() -> None:
    s = wb.Schema.single("kind", ["insult", "threat", "spam", "ham", "unsure"])
    new = s.evolve(merge={"abuse": ["insult", "threat"]}, remove=["unsure"])
    assert new.question().choices == ("abuse", "spam", "ham")
    assert new.changes is not None
    assert new.changes.targets("kind", "insult") == new.changes.targets("kind", "threat") == ("abuse",)
    assert new.changes.targets("kind", "unsure") == ()
    folded = s.evolve(merge={"ham": ["unsure"]})  # fold one choice into an existing one
    assert folded.question().choices == ("insult", "threat", "spam", "ham")
    assert folded.changes is not None and folded.changes.targets("kind", "unsure") == ("ham",)
    keep_name = s.evolve(split={"spam": ["spam", "scam"]})  # a split part may keep the old name
    assert keep_name.question().choices == ("insult", "threat", "spam", "scam", "ham", "unsure")
    assert keep_name.changes is not None and keep_name.changes.targets("kind", "spam") == ("spam", "scam")


def test_chained_evolve_composes_rename_then_split_then_merge() -> None:
    step1 = TOX.evolve(rename={"toxic": "bad"})
    step2 = step1.evolve(split={"bad": ["harassment", "hate", "other"]})
    step3 = step2.evolve(merge={"abuse": ["harassment", "hate"]})
    ch = step3.changes
    assert ch is not None and ch.base_version == TOX.version
    assert step3.question().choices == ("ok", "abuse", "other", "unsure")
    assert ch.targets("toxicity", "toxic") == ("abuse", "other")
    back = step3.evolve(merge={"bad": ["abuse", "other"]})  # merging every part back is a mapping again
    assert back.changes is not None and back.changes.targets("toxicity", "toxic") == ("bad",)
    assert len(back.changes.describe()) == 4


def test_conditions_follow_choices_and_can_be_changed(seatbelt_schema: wb.Schema) -> None:
    renamed = seatbelt_schema.evolve(question="person", rename={"yes": "present"})
    assert renamed.question("seatbelt").condition == {"person": ("present",)}
    split = seatbelt_schema.evolve(question="person", split={"yes": ["adult", "child"]})
    assert split.question("seatbelt").condition == {"person": ("adult", "child")}
    always = seatbelt_schema.evolve(condition={"seatbelt": None})
    assert always.question("seatbelt").condition == {}
    assert always.changes is not None and always.changes.changed_conditions == ("seatbelt",)
    gone = seatbelt_schema.evolve(remove_question="seatbelt")
    assert gone.question_names == ("person",)
    assert gone.changes is not None and gone.changes.removed_questions == ("seatbelt",)
    assert "seatbelt" not in gone.changes.choice_maps
    more = seatbelt_schema.evolve(add_question=wb.Question("phone", ["yes", "no"], when={"person": "yes"}))
    assert more.question_names == ("person", "seatbelt", "phone")
    assert more.changes is not None and more.changes.added_questions == ("phone",)
    # a choice name unique to one question needs no question=
    auto = seatbelt_schema.evolve(rename={"unsure": "unknown"})
    assert auto.question("seatbelt").choices == ("yes", "no", "unknown")


def test_infer_compares_a_hand_built_schema_by_name() -> None:
    from workbench.schema import SchemaChanges

    by_hand = wb.Schema.single("toxicity", ["ok", "toxic", "spam"])
    ch = SchemaChanges.infer(TOX, by_hand)
    assert ch.targets("toxicity", "unsure") == ()  # missing: removed, never guessed to be a rename
    assert ch.targets("toxicity", "ok") == ("ok",)
    assert any("spam" in s for s in ch.describe())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "without a change"),
        ({"remove": ["nope"]}, r"names \['nope'\], which are not choices"),
        ({"rename": {"ok": "fine"}, "remove": ["ok"]}, "is changed twice"),
        ({"rename": {"ok": "toxic"}}, "use merge="),
        ({"rename": {"ok": "ok"}}, "to itself"),
        ({"rename": {"ok": ""}}, "non-empty string"),
        ({"rename": {"ok": "x", "unsure": "x"}}, "would come from several changes"),
        ({"split": {"toxic": ["hate"]}}, "at least two distinct"),
        ({"split": {"toxic": ["a", "a"]}}, "at least two distinct"),
        ({"merge": {"bad": ["toxic"]}}, "at least two old choices"),
        ({"add": ["ok"]}, "already a choice"),
        ({"remove": ["ok", "toxic"]}, "at least two"),
        ({"add": "spam", "question": "nope"}, "has no question 'nope'"),
        ({"question": "toxicity"}, "none of those was given"),
        ({"rename": ["ok"]}, "must be a dict"),
        ({"add": 3}, "must be a list of choice names"),
        ({"split": {"toxic": "a b"}}, "must be a list of choice names"),
        ({"add_question": "q"}, "takes a wb.Question"),
        ({"condition": {"nope": None}}, "does not have"),
        ({"condition": {"toxicity": "ok"}}, "must be a dict"),
        ({"remove_question": "toxicity"}, "every question"),
    ],
)
def test_evolve_error_catalogue(kwargs: dict, message: str) -> None:
    with pytest.raises(wb.SchemaError, match=message):
        TOX.evolve(**kwargs)


def test_evolve_errors_of_multi_question_schemas(seatbelt_schema: wb.Schema) -> None:
    with pytest.raises(wb.SchemaError, match="Name the question"):
        seatbelt_schema.evolve(rename={"yes": "y"})  # 'yes' is a choice of both questions
    with pytest.raises(wb.SchemaError, match="Name the question"):
        seatbelt_schema.evolve(add=["maybe"])
    with pytest.raises(wb.SchemaError, match="Remove 'seatbelt' too"):
        seatbelt_schema.evolve(remove_question="person")
    with pytest.raises(wb.SchemaError, match="names only removed choices"):
        seatbelt_schema.evolve(question="person", remove=["yes"], add=["maybe"])
    with pytest.raises(wb.SchemaError, match="already has a question"):
        seatbelt_schema.evolve(add_question=wb.Question("person", ["a", "b"]))
    with pytest.raises(wb.SchemaError, match="not choices of 'person'"):
        seatbelt_schema.evolve(condition={"seatbelt": {"person": "maybe"}})


# ---------------------------------------------------------------------- renaming a question
def test_rename_question_keeps_choices_position_and_description_and_conditions_follow(
    seatbelt_schema: wb.Schema,
) -> None:
    new = seatbelt_schema.evolve(rename_question={"person": "occupant"})
    assert new.question_names == ("occupant", "seatbelt")
    assert new.question("occupant").choices == seatbelt_schema.question("person").choices
    assert new.question("occupant").description == seatbelt_schema.question("person").description
    assert new.question("seatbelt").condition == {"occupant": ("yes",)}  # the follow-up's condition follows
    ch = new.changes
    assert ch is not None and ch.renamed_questions == {"person": "occupant"}
    assert ch.question_target("person") == "occupant" and ch.question_origin("occupant") == "person"
    assert ch.question_target("seatbelt") == "seatbelt" and ch.question_target("nope") is None
    assert ch.targets("person", "yes") == ("yes",)  # choice maps stay keyed by the old question name
    assert ch.describe() == ["renamed question 'person' to 'occupant'"]
    assert new.version != seatbelt_schema.version and seatbelt_schema.question_names == ("person", "seatbelt")
    # renaming the follow-up leaves its parent alone
    child = seatbelt_schema.evolve(rename_question={"seatbelt": "belt"})
    assert child.question_names == ("person", "belt") and child.question("belt").condition == {"person": ("yes",)}


def test_rename_question_composes_with_choice_changes_in_one_call_and_in_a_chain() -> None:
    one_call = TOX.evolve(rename_question={"toxicity": "harm"}, rename={"ok": "fine"}, split={"toxic": ["a", "b"]})
    chained = TOX.evolve(rename_question={"toxicity": "harm"}).evolve(question="harm", rename={"ok": "fine"},
                                                                     split={"toxic": ["a", "b"]})
    other_order = TOX.evolve(rename={"ok": "fine"}, split={"toxic": ["a", "b"]}).evolve(
        rename_question={"toxicity": "harm"})
    assert one_call.version == chained.version == other_order.version
    assert one_call.question("harm").choices == ("fine", "a", "b", "unsure")
    for s in (one_call, chained, other_order):
        ch = s.changes
        assert ch is not None and ch.base_version == TOX.version
        assert ch.renamed_questions == {"toxicity": "harm"} and ch.question_target("toxicity") == "harm"
        assert ch.targets("toxicity", "ok") == ("fine",) and ch.targets("toxicity", "toxic") == ("a", "b")
    assert one_call.changes is not None and one_call.changes.describe()[:2] == [
        "renamed question 'toxicity' to 'harm'", "renamed the choice 'ok' of question 'harm' to 'fine'"]
    # renamed twice: one rename from the base; renamed back: no rename at all
    twice = TOX.evolve(rename_question={"toxicity": "harm"}).evolve(rename_question={"harm": "abuse"})
    assert twice.changes is not None and twice.changes.renamed_questions == {"toxicity": "abuse"}
    back = TOX.evolve(rename_question={"toxicity": "harm"}).evolve(rename_question={"harm": "toxicity"})
    assert back.version == TOX.version
    assert back.changes is not None and back.changes.renamed_questions == {}
    assert back.changes.targets("toxicity", "toxic") == ("toxic",)


def test_chained_question_changes_compose_by_name(seatbelt_schema: wb.Schema) -> None:
    # renamed, then removed: the removal names the base question
    gone = seatbelt_schema.evolve(rename_question={"seatbelt": "belt"}).evolve(remove_question="belt")
    assert gone.changes is not None and gone.changes.removed_questions == ("seatbelt",)
    assert gone.changes.question_target("seatbelt") is None and gone.changes.renamed_questions == {}
    # added, then renamed: still an added question, under its last name
    added = seatbelt_schema.evolve(add_question=wb.Question("phone", ["yes", "no"])).evolve(
        rename_question={"phone": "mobile"})
    assert added.changes is not None and added.changes.added_questions == ("mobile",)
    assert added.changes.renamed_questions == {}
    # a changed condition, then its question renamed: listed under the new name
    cond = seatbelt_schema.evolve(condition={"seatbelt": None}).evolve(rename_question={"seatbelt": "belt"})
    assert cond.changes is not None and cond.changes.changed_conditions == ("belt",)
    # in one call, question= and condition= may name a renamed question by either name
    both = seatbelt_schema.evolve(rename_question={"person": "occupant"}, question="occupant", add=["maybe"],
                                  condition={"seatbelt": {"occupant": ["yes", "maybe"]}})
    assert both.question("occupant").choices == ("yes", "no", "maybe")
    assert both.question("seatbelt").condition == {"occupant": ("yes", "maybe")}
    assert both.changes is not None and both.changes.changed_conditions == ("seatbelt",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rename_question": {"seatbelt": "person"}}, r"maps 'seatbelt' to 'person', which is already a question"),
        ({"rename_question": {"person": "seatbelt", "seatbelt": "person"}}, "chain two calls"),
        ({"rename_question": {"nope": "x"}}, r"names \['nope'\], which are not questions of schema"),
        ({"rename_question": {"person": ""}}, "'rename_question' parameter.*must be a non-empty string"),
        ({"rename_question": {"person": " occupant"}}, "without leading/trailing white space"),
        ({"rename_question": {"person": None}}, "must be a non-empty string"),
        ({"rename_question": {"person": "person"}}, "to itself"),
        ({"rename_question": {"person": "who", "seatbelt": "who"}}, "each question needs a name of its own"),
        ({"rename_question": ["person"]}, "'rename_question' parameter of Schema.evolve must be a dict"),
        ({"rename_question": {"seatbelt": "belt"}, "remove_question": "seatbelt"}, "both renamed.*and removed"),
        ({"rename_question": {"seatbelt": "belt"}, "remove_question": "belt"}, "both renamed.*and removed"),
        ({"rename_question": {"person": "who"}, "condition": {"seatbelt": {"person": "yes"}}},
         r"names the question 'person', which this call renames to 'who'"),
        ({"rename_question": {"person": "who"},
          "add_question": wb.Question("phone", ["y", "n"], when={"person": "yes"})},
         r"add_question 'phone' names the question 'person'"),
        ({"rename_question": {"person": "phone"}, "add_question": wb.Question("phone", ["y", "n"])},
         "the name of a question add_question adds"),
    ],
)
def test_rename_question_error_catalogue(seatbelt_schema: wb.Schema, kwargs: dict, message: str) -> None:
    with pytest.raises(wb.SchemaError, match=message):
        seatbelt_schema.evolve(**kwargs)


def test_rename_question_counts_as_a_change() -> None:
    renamed = TOX.evolve(rename_question={"toxicity": "harm"})
    assert renamed.question_names == ("harm",) and renamed.is_single
    with pytest.raises(wb.SchemaError, match="rename_question="):
        TOX.evolve()  # the 'no change' error lists the new parameter
