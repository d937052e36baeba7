"""Messages in the clerk's language: every message of the engine is a literal English template with named
parameters (so `str()` stays English), the Chinese catalog translates each one with the same parameters, and the
committed catalog is what `./dev catalogs` makes of the source."""

from __future__ import annotations

import io
import string

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from states import SeparationOfDuties
from states.errors import Phrase
from tests.conftest import new_info
from workflow import Workflow
from workflow.errors import InvalidInput
from workflow.i18n import DOMAIN, LOCALE, explain, say
from workflow.locale import Found, messages

PACKAGES = ("workflow", "states", "notifiers", "scripts")
PO = LOCALE / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"


def found(packages: tuple[str, ...]) -> list[Found]:
    return list(messages(packages))


def fields(template: str) -> set[tuple[str, str | None, str]]:
    """The replacement fields of a template, each with its conversion and format: a translation keeps them all."""
    return {(name, conversion, spec) for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None}


def zh_catalog() -> dict[str, str]:
    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale="zh") if m.id}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_is_a_literal_template_given_its_parameters(package: str) -> None:
    every = found((package,))
    assert every  # the finder still sees the package's messages
    assert [f.place for f in every if f.template is None] == []
    for f in every:
        assert f.template is not None
        names = {name for name, _, _ in fields(f.template)}
        assert f.params is None or names <= f.params, f"{f.place}: {f.template!r} lacks {names - f.params}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_template_has_a_chinese_translation_with_the_same_fields(package: str) -> None:
    zh = zh_catalog()
    templates = {f.template for f in found((package,)) if f.template is not None}
    for template in sorted(templates):
        assert zh.get(template), f"no translation of {template!r}"
        assert fields(zh[template]) == fields(template), template


def test_the_committed_catalog_is_what_dev_catalogs_makes() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert PO.with_suffix(".mo").read_bytes() == compiled.getvalue()
    every = found(PACKAGES)
    assert {m.id for m in catalog if m.id} == {f.template for f in every if f.template is not None}


def test_a_refusal_is_said_in_chinese_or_english_and_stays_english_in_str(swf: Workflow) -> None:
    item_id = new_info(swf)
    swf.advance(item_id, "submit", actor="clerk")
    swf.advance(item_id, "proofread", actor="multi")
    with pytest.raises(SeparationOfDuties) as caught:
        swf.advance(item_id, "clear", actor="multi", decision="full")
    error = caught.value
    assert error.code == "separation-of-duties"
    english = (f"item {item_id} (confidentiality_review (保密审查), round 1): multi signed proofread (校对) in this "
               "round and may not also sign clear (审核)")
    assert str(error) == english
    assert explain(error, "en") == english
    assert explain(error, "zh") == (f"item {item_id}（confidentiality_review (保密审查)，第 1 轮）：multi 本轮已签署 "
                                    "proofread（校对），不得再签署 clear（审核）")


def test_a_parameter_is_never_formatted_again() -> None:
    typed = "{x} and {0} and {"
    error = InvalidInput("no item '{item}'", item=typed)
    assert str(error) == f"no item '{typed}'"
    assert explain(error, "zh") == f"没有事项 '{typed}'"
    nested = InvalidInput("{source}: {key}: {problem}", source="a.toml", key="k",
                          problem=Phrase("'{value}' is not a time of day like 08:30", value=typed))
    assert explain(nested, "zh") == f"a.toml：k：'{typed}' 不是一天中的时刻（如 08:30）"
    assert str(nested) == f"a.toml: k: '{typed}' is not a time of day like 08:30"
    said = say("zh", "{case}: reassign needs the drafter it goes to", case=typed)
    assert said == f"{typed}：reassign 须写明接手的经办人"


def test_an_error_without_a_template_is_said_as_it_is() -> None:
    assert explain(ValueError("plain {words}"), "zh") == "plain {words}"
    assert explain(InvalidInput("not in the catalog: {n}", n=1), "zh") == "not in the catalog: 1"
