from tests.conftest import new_info, publish
from workflow import Workflow


def test_publish_and_verify(wf: Workflow) -> None:
    item_id = new_info(wf)
    publish(wf, item_id)
    assert wf.item(item_id).state == "published"
    assert [s.action for s in wf.history(item_id)] == [
        "create", "submit", "proofread", "clear", "check", "approve", "publish"]
    report = wf.verify()
    assert report.ok, report.problems
    assert report.events == 7
