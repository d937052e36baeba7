"""Items carry documents by hash (the annual report's DOCX on its item): signed with the item's content, kept in
`zwgk_document`, checked by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.tampering import Raw
from workflow import Workflow
from workflow.errors import InvalidInput, NotFound

from .conftest import new_info, publish


def test_an_item_carries_documents_that_verify_holds_it_to(wf: Workflow, db_url: str) -> None:
    sha = wf.store_document(b"%PDF-1.4 report", media_type="application/pdf", name="report.pdf")
    assert wf.store_document(b"%PDF-1.4 report", media_type="application/pdf", name="again.pdf") == sha
    item = new_info(wf, attachments=[sha])
    assert wf.item(item).attachments == (sha,)
    other = wf.store_document(b"second", media_type="text/plain", name="b.txt")
    wf.edit_item(item, actor="clerk", attachments=[sha, other])
    assert set(wf.item(item).attachments) == {sha, other}
    publish(wf, item)
    assert wf.verify().ok
    raw = Raw(db_url)
    try:
        raw.run("UPDATE zwgk_item SET attachments = :a WHERE id = :i", a=f'["{sha}"]', i=item)
        assert any("content differs" in p for p in wf.verify().problems)
        raw.run("UPDATE zwgk_item SET attachments = :a WHERE id = :i", a=f'["{other}", "{sha}"]'
                if other < sha else f'["{sha}", "{other}"]', i=item)
        assert wf.verify().ok
    finally:
        raw.close()


def test_an_item_attaches_only_a_stored_document(wf: Workflow) -> None:
    with pytest.raises(NotFound, match="no document"):
        new_info(wf, attachments=["a" * 64])
    with pytest.raises(InvalidInput, match="SHA-256"):
        new_info(wf, attachments=["not a hash"])
    with pytest.raises(InvalidInput, match="bytes"):
        wf.store_document("text", media_type="text/plain", name="x")  # type: ignore[arg-type]


def test_an_item_without_attachments_hashes_as_before(wf: Workflow) -> None:
    item = new_info(wf)
    with wf.engine.connect() as c:
        stored = c.execute(text("SELECT attachments FROM zwgk_item WHERE id = :i"), {"i": item}).scalar_one()
    assert stored is None and wf.item(item).attachments == () and wf.verify().ok
