"""`./dev catalogs`: add the messages found in the source to each catalog, drop those no longer used, compile.

Needs Babel (a test dependency); the installed package only reads the compiled `.mo` files."""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from workflow.i18n import DOMAIN, LANGS, LOCALE
from workflow.locale import messages


def main() -> int:
    found = list(messages())
    loose = [f.place for f in found if f.template is None]
    templates = sorted({f.template for f in found if f.template is not None})
    for lang in LANGS[:-1] if LANGS[-1] == "en" else LANGS:
        po = LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        old = read_po(po.open("rb"), locale=lang) if po.exists() else Catalog(locale=lang, domain=DOMAIN)
        new = Catalog(locale=lang, domain=DOMAIN, project="zwgk-workflow", charset="utf-8", fuzzy=False,
                      creation_date=old.creation_date, revision_date=old.revision_date)  # same input, same file
        for template in templates:
            known = old.get(template)
            new.add(template, known.string if known is not None else "")
        with po.open("wb") as f:
            write_po(f, new, width=120, omit_header=False, sort_output=True, no_location=True)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, new)
        untranslated = [m.id for m in new if m.id and not m.string]
        print(f"{lang}: {len(templates)} messages, {len(untranslated)} untranslated")
    for place in loose:
        print(f"not a literal template: {place}", file=sys.stderr)
    return 1 if loose else 0


if __name__ == "__main__":
    sys.exit(main())
