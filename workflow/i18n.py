"""Human words in the clerk's language: Chinese by default, English on request (`zwgk --lang en`, ZWGK_LANG).

Messages are written in English in the code, as templates with named parameters, so that `str()` of an error, a
host's logs and tracebacks stay English; a front end renders them from the gettext catalogs in workflow/locale
(sources: the .po files; `./dev catalogs` compiles them). JSON keys and logs are never translated."""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path
from typing import Any, cast

from states.errors import Phrase, Phrased

LANGS = ("zh", "en")
DOMAIN = "zwgk"
LOCALE = Path(__file__).parent / "locale"


def language(requested: str | None = None) -> str:
    """The language asked for (`--lang`), else ZWGK_LANG, else Chinese; an unknown one is a ValueError."""
    lang = requested or os.environ.get("ZWGK_LANG") or "zh"
    if lang not in LANGS:
        raise ValueError(f"unknown language '{lang}' (one of: {', '.join(LANGS)})")
    return lang


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":  # the code's own words
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE, languages=[lang])  # missing: a broken install, said loudly


def say(lang: str, template: str, **params: Any) -> str:
    """`template` in `lang`, filled with `params` (a Phrase among them said in `lang` too)."""
    return _render(Phrase(template, **params), lang)


def explain(error: BaseException, lang: str) -> str:
    """An error's message in `lang`: its template translated and filled, or its English text when it has none
    (or the translation does not fit its parameters, which a catalog test forbids)."""
    if not isinstance(getattr(error, "template", None), str) or not isinstance(getattr(error, "params", None), dict):
        return str(error)  # no template: a Phrased error, or one like it (the CLI's UsageError), has one
    try:
        return _render(cast(Phrase, error), lang)  # what _render reads of it: its template and params
    except (KeyError, IndexError, ValueError):
        return str(error)


def _render(phrase: Phrase | Phrased, lang: str) -> str:
    """A template in `lang`, filled with its parameters; a parameter that is itself a phrase is said in `lang`
    too. A parameter's text is never formatted again, so braces in what a user typed stay as they are."""
    text = catalog(lang).gettext(phrase.template)
    if not phrase.params:
        return text
    return text.format(**{k: _render(v, lang) if isinstance(v, (Phrase, Phrased)) else v
                          for k, v in phrase.params.items()})
