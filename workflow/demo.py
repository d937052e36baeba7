"""The demo: a township's people (placeholder names) and sample items of the plan, walked through the pipeline."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from workflow.api import Workflow
from workflow.config import Config, Daemon, Reminders
from workflow.daemon import Daemon as Runner
from workflow.model import Signature
from workflow.requests import Applicant

# The leading group and the office of plan §三, with placeholder names.
UNITS = [("gov", "平田乡人民政府", "government"), ("office", "平田乡党政办", "office"),
         ("finance", "平田乡财政所", "station"), ("civil", "平田乡民政所", "station"),
         ("village1", "平田村委会", "village")]
# Roles are held per unit: the township's leaders and the office (党政办) review and publish for every unit that
# discloses; each station's clerk drafts for their own.
REVIEWED = ("gov", "finance", "civil")
PEOPLE = [
    ("head", "乡长（示例）", "gov", {u: ["head"] for u in REVIEWED}),
    ("leader", "分管副书记（示例）", "gov", {u: ["leader"] for u in REVIEWED}),
    ("office_head", "党政办主任（示例）", "office", {u: ["confidentiality_reviewer"] for u in REVIEWED}),
    ("proofreader", "党政办校对员（示例）", "office", {u: ["proofreader"] for u in REVIEWED}),
    ("clerk", "党政办经办员（示例）", "office", {"gov": ["drafter", "publisher", "handler"], "finance": ["publisher"],
                                          "civil": ["publisher"]}),
    ("disclosure_head", "政府信息公开工作机构负责人（示例）", "office", {"gov": ["disclosure_office_head"]}),
    ("finance_clerk", "财政所经办员（示例）", "finance", {"finance": ["drafter"]}),
    ("civil_clerk", "民政所经办员（示例）", "civil", {"civil": ["drafter"]}),
]
ADMIN = ("registrar", "党政办登记管理员（示例）")


def _review(wf: Workflow, item_id: str, *, paper: bool = False, withhold_personal: bool = False) -> list[Signature]:
    """The review up to the head's approval. `withhold_personal`: the confidentiality reviewer withholds the personal
    data the pre-screen finds in the body (部分公开, Art. 15 and 37) before clearing the rest."""
    sheet = hashlib.sha256(f"scan of the paper sign-off sheet for {item_id}".encode()).hexdigest()
    sigs = [wf.advance(item_id, "submit", actor=wf.item(item_id).drafter),
            wf.advance(item_id, "proofread", actor="proofreader", comment="文字已校对")]
    if withhold_personal:
        spans = [(f.start, f.end, "art15") for field, f in wf.screen_item(item_id) if field == "body"]
        sigs.append(wf.redact(item_id, spans, actor="office_head", comment="身份证号、电话属个人隐私"))
    decision = "partial" if withhold_personal else "full"
    return [
        *sigs,
        wf.advance(item_id, "clear", actor="office_head", decision=decision, comment="不涉密，同意公开",
                   reason="个人身份证号和电话不予公开" if withhold_personal else None),
        wf.advance(item_id, "check", actor="leader"),
        wf.advance(item_id, "approve", actor="head", comment="同意",
                   recorded_by="clerk" if paper else None, paper_sha256=sheet if paper else None),
    ]


def _walk(wf: Workflow) -> list[Signature]:
    sigs: list[Signature] = []
    admin = ADMIN[0]
    for uid, name, kind in UNITS:
        wf.add_unit(uid, name=name, kind=kind, by=admin)
    for pid, name, home, held in PEOPLE:
        wf.add_person(pid, name=name, unit=home, by=admin)
        for unit, roles in held.items():
            for role in roles:
                wf.grant(pid, role, unit=unit, by=admin)
    wf.subscribe(sigs.append)

    # Published: a quarterly disclosure of township income and expenditure (定期公开).
    money = wf.new_item(title="2026年第三季度乡村两级财务收支情况", unit="finance", category="3.4", timing="periodic",
                        kind="info", drafter="finance_clerk", body="（示例）收入……支出……", tags=["result"],
                        formed_on=date(2026, 10, 9), schedule="finance", period="2026Q3")
    _review(wf, money.id)
    wf.advance(money.id, "publish", actor="clerk")

    # Returned, then published: a policy and its interpretation (谁起草、谁解读), linked once both are public.
    policy = wf.new_item(title="平田乡村庄建设管理办法", unit="gov", category="1.1", timing="long_term", kind="policy",
                         drafter="clerk", body="（示例）第一条……", tags=["decision"], doc_type="normative")
    _review(wf, policy.id, paper=True)
    wf.advance(policy.id, "publish", actor="clerk")
    reading = wf.new_item(title="《平田乡村庄建设管理办法》政策解读", unit="gov", category="1.1", timing="immediate",
                          kind="interpretation", interprets=policy.id, drafter="clerk", body="（示例）一问一答……")
    wf.advance(reading.id, "submit", actor="clerk")
    wf.advance(reading.id, "proofread", actor="proofreader")
    wf.advance(reading.id, "clear", actor="office_head", decision="full")
    wf.advance(reading.id, "return", actor="leader", reason="解读未说明适用范围，请补充")
    wf.edit_item(reading.id, actor="clerk", body="（示例）一问一答……适用范围：全乡各村。", comment="补充适用范围")
    _review(wf, reading.id)
    wf.advance(reading.id, "publish", actor="clerk")

    # Withheld: process information (Art. 16) stays internal.
    memo = wf.new_item(title="关于村级干部调整的请示", unit="gov", category="4.4", timing="immediate", kind="info",
                       drafter="clerk", body="（示例，内部）……")
    wf.advance(memo.id, "submit", actor="clerk")
    wf.advance(memo.id, "withhold", actor="office_head", ground="art16", reason="请示报告属过程性信息")

    # Retracted: a 低保 result published, then withdrawn because the list had an error.
    dibao = wf.new_item(title="平田村2026年最低生活保障评定结果", unit="civil", category="2.4", timing="immediate",
                        kind="info", drafter="civil_clerk", tags=["result"],
                        body="（示例）评定对象：张某某，身份证号530328199001011236，联系电话13912345678，保障人口2人。")
    _review(wf, dibao.id, withhold_personal=True)
    wf.advance(dibao.id, "publish", actor="clerk")
    wf.advance(dibao.id, "retract", actor="head", reason="名单有误，核实后重新公开")

    # Late: formed six weeks ago and still waiting for the leader; its 20 working days have run out, so the
    # daemon reminds the drafter and escalates to the leader in charge and the head.
    late = wf.new_item(title="平田乡农村人居环境整治项目进展情况", unit="gov", category="2.5", timing="immediate",
                       kind="info", drafter="clerk", body="（示例）……", tags=["execution"],
                       formed_on=wf.today() - timedelta(days=42))
    for action, actor in (("submit", "clerk"), ("proofread", "proofreader"), ("clear", "office_head")):
        wf.advance(late.id, action, actor=actor, decision="full" if action == "clear" else None)

    # A request (依申请公开) answered by 部分公开: the list is given, the ID numbers in it are not (Art. 37).
    asked = wf.requests.new(unit="gov", handler="clerk", via="in_person", description="2026年平田村低保资金发放名单",
                            applicant=Applicant("申请人（示例）", "natural", phone="13800000000", address="平田村"))
    wf.requests.reply(asked.id, actor="clerk", type="partial.withheld", how="提供纸质复印件，当面领取",
                      ground="withheld.third_party", reason="名单中的身份证号码、银行账号属于个人隐私，已作区分处理")
    for action, actor in (("submit", "clerk"), ("proofread", "proofreader"), ("clear", "office_head"),
                          ("check", "leader"), ("approve", "head"), ("send", "clerk")):
        wf.requests.advance(asked.id, action, actor=actor)
    # And one still open, its 20 working days running.
    wf.requests.new(unit="gov", handler="clerk", via="online", description="平田乡2026年村道硬化工程招标文件",
                    applicant=Applicant("某建设公司（示例）", "business", email="demo@example.com"))
    return sigs


def run(folder: Path | None, out: Callable[[str], None], *, daemon: bool = True, once: bool = False) -> int:
    """Build the demo database and print its signatures; then run the reminder daemon on it, printing
    reminders to the console (all day: a demo should not wait for office hours)."""
    from scripts.output import deadline_line, signature_line  # the demo prints like the CLI does

    target = folder or Path(tempfile.mkdtemp(prefix="zwgk-demo-"))
    path = target / "zwgk-demo.db"
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    config = replace(Config(), reminders=replace(Reminders(), office_hours_only=False),
                     daemon=Daemon(plan_every=5, send_every=2, roll_every=60, heartbeat_every=10))
    with Workflow(url, config=config) as wf:
        wf.init(admin=ADMIN[0], name=ADMIN[1], simulation=True)  # placeholder people: a simulation
        sigs = _walk(wf)
        pipeline = wf.pipeline_in_force("gov")
        pipelines = {"item": pipeline, "request": wf.pipeline_in_force("gov", "request")}
        for s in sigs:
            out(signature_line(s, pipelines.get(s.case_kind, pipeline), wf.config.office.tz))
        report = wf.verify()
        out("")
        for item in wf.items():
            out(f"{item.id:<22} {pipeline.label(item.state):<28} {item.title}")
        asked = wf.requests.requests()
        for r in asked:
            out(f"{r.id:<22} {r.status:<28} due {r.due_on or '-'}  {r.description}")
        for signed, letter in wf.requests.letters(asked[0].id):  # the reply's letter, as printed for the applicant
            doc = wf.requests.printed(signed.case_id, letter["docx"])
            (target / doc.name).write_bytes(doc.content)
            out(f"letter ({letter['kind']}): {target / doc.name}")
        out(f"\nverify: {'ok' if report.ok else report.first_problem} ({report.events} events in {report.chains} "
            f"chains, {report.cases} cases)")
        out(f"root digest: {wf.digest()}")
        out(f"database: {path}  (try: ./dev zwgk --db {url} item show {sigs[0].item_id}; with .venv/bin on PATH, "
            "zwgk alone)")
        if not report.ok:
            return 1
        if daemon:
            wf.roll_schedules()
            out("\ndeadlines:")
            today = wf.today()
            for d in wf.deadlines():
                out("  " + deadline_line(d, today, "en"))  # the demo speaks English throughout
            out("\nreminder daemon (console notifier)" + ("" if once else "; stop it with Ctrl-C") + ":")
            runner = Runner(wf)
            if once:
                runner.once()
            else:
                runner.run()
    return 0
