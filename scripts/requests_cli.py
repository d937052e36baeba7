"""`zwgk request ...`: requests for government information (依申请公开). Parse, call `Workflow.requests`, print.

Only `request show ID --applicant` prints who asked; listings, errors and logs never do.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts import output

if TYPE_CHECKING:
    from scripts.zwgk import Cli
    from workflow import Workflow
    from workflow.desk import Request

# The clock's steps: subcommand -> (its help, the options it takes besides ID --on --as)
STEPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "correction": ("the one 补正 notice (Art. 30), within 7 working days of receipt", ("item", "correct_by")),
    "corrected": ("the corrected request arrived (the 20 working days start again)", ()),
    "extend": ("extend the reply by up to 20 working days (the disclosure office head)", ("days", "reason")),
    "consult": ("consult a third party (Art. 32) or another office (Art. 34): the clock stops",
                ("party", "consulted", "concern")),
    "consulted": ("the consulted party's reply arrived: the clock runs again from the next day", ("party",)),
    "fee": ("a fee notice (Art. 42): the clock stops until it is paid", ("basis", "pages")),
    "paid": ("the fee was paid", ()),
    "period": ("Art. 35: a reasonable longer period for a very large or repeated request", ("due_on", "reason")),
    "review": ("a 行政复议 or 行政诉讼 brought against the reply", ("kind",)),
    "outcome": ("the outcome of the request's Nth review", ("n", "outcome")),
}


def add_parsers(sub: Any, common: argparse.ArgumentParser, day: Callable[[str], date],
                count: Callable[[str], int]) -> None:
    req = sub.add_parser("request", parents=[common], help="requests for government information (依申请公开)")
    rs = req.add_subparsers(dest="sub", required=True)
    new = rs.add_parser("new", parents=[common], help="register a request (signed by the handler who takes it in)")
    new.add_argument("--unit", required=True, help="the administrative organ it was made to (the township government)")
    new.add_argument("--via", required=True, choices=["in_person", "registered_post", "post", "online", "fax"],
                     help="how it came")
    new.add_argument("--received-on", type=day, help="its receipt date (Art. 31): handed in, that day (default "
                     "today); registered post, the day signed for; post, online or fax, the day the office confirms")
    new.add_argument("--applicant-name", required=True, help="the applicant (a person or an organisation)")
    new.add_argument("--applicant-type", required=True,
                     choices=["natural", "business", "research", "public_interest", "legal_service", "other"],
                     help="自然人, or an organisation: 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他")
    new.add_argument("--id-document", help="their identity document or unified social credit code")
    new.add_argument("--phone", help="a phone number to reach them")
    new.add_argument("--email", help="an e-mail address to reach them")
    new.add_argument("--address", help="a postal address")
    new.add_argument("--description", required=True, help="the information asked for")
    new.add_argument("--form", default="paper", choices=["paper", "email", "disc", "inspect"],
                     help="how they want it")
    new.add_argument("--oral", action="store_true", help="asked orally: the handler wrote it down (代为填写)")
    new.add_argument("--id", help="use this id instead of the unit's next number")
    new.add_argument("--as", dest="actor", required=True, help="the handler (承办人)")
    show = rs.add_parser("show", parents=[common], help="one request: what it asks, its clock, its letters")
    show.add_argument("id", help="the request's number")
    show.add_argument("--applicant", action="store_true", help="also print who asked (personal data)")
    lst = rs.add_parser("list", parents=[common], help="requests by id, with their status and due day")
    lst.add_argument("--state", help="only those in this state, e.g. handling or replied")
    lst.add_argument("--unit", help="only those of this unit")
    lst.add_argument("--limit", type=count, help="at most this many (a page)")
    lst.add_argument("--after", metavar="ID", help="only those after this number: the last of the previous page")
    reply = rs.add_parser("reply", parents=[common], help="draft the reply (a type of the 2021 catalogue)")
    reply.add_argument("id", help="the request's number")
    reply.add_argument("--type", required=True, help="e.g. disclosed.provided, partial.withheld, withheld.third_party")
    reply.add_argument("--how", help="how or where the information is provided or can be obtained")
    reply.add_argument("--reason", help="the reasons: why it is withheld, what was searched")
    reply.add_argument("--ground", help="a partial disclosure's ground: the withheld.* type of what it withholds")
    reply.add_argument("--other-office", help="the office that holds the information")
    reply.add_argument("--law", help="the legal basis of an other.other reply")
    reply.add_argument("--as", dest="actor", required=True, help="the handler")
    revise = rs.add_parser("revise", parents=[common], help="enter the corrected request (补正) or the form wanted")
    revise.add_argument("id", help="the request's number")
    revise.add_argument("--description", help="the information asked for, as corrected")
    revise.add_argument("--form", choices=["paper", "email", "disc", "inspect"], help="how they now want it")
    revise.add_argument("--as", dest="actor", required=True, help="the handler")
    adv = rs.add_parser("advance", parents=[common], help="sign a step of the reply's review, or send it")
    adv.add_argument("id", help="the request's number")
    adv.add_argument("action", help="submit, proofread, clear, check, approve, send or return")
    adv.add_argument("--reason", help="why (a return needs one)")
    adv.add_argument("--comment", help="recorded with the signature")
    adv.add_argument("--as", dest="actor", required=True, help="who signs")
    for name, (what, options) in STEPS.items():
        p = rs.add_parser(name, parents=[common], help=what)
        p.add_argument("id", help="the request's number")
        p.add_argument("--on", type=day, required=True, help="the day it happened (YYYY-MM-DD)")
        for option in options:
            _option(p, option, day, count)
        p.add_argument("--comment", help="recorded with the signature")
        p.add_argument("--as", dest="actor", required=True, help="who signs")
    handon = rs.add_parser("reassign", parents=[common], help="hand a request to another handler (its handler left)")
    handon.add_argument("id", help="the request's number")
    handon.add_argument("--to", required=True, help="the handler it goes to")
    handon.add_argument("--reason", help="why (recorded with the signature)")
    handon.add_argument("--as", dest="actor", required=True, help="its handler, or the head of the disclosure office")
    erase = rs.add_parser("erase", parents=[common], help="erase the applicant's identity (the reply is out)")
    erase.add_argument("id", help="the request's number")
    erase.add_argument("--as", dest="actor", required=True, help="the head of the disclosure office")
    letter = rs.add_parser("letter", parents=[common], help="list a request's letters, or write one to a file")
    letter.add_argument("id", help="the request's number")
    letter.add_argument("sha256", nargs="?", help="the letter's document (from the list)")
    letter.add_argument("--out", type=Path, help="the file to write (default: its name, in this folder)")
    letter.add_argument("--stored", action="store_true", help="as stored (without the applicant's name)")
    hist = rs.add_parser("history", parents=[common], help="every signature on a request")
    hist.add_argument("id", help="the request's number")
    similar = rs.add_parser("similar", parents=[common],
                            help="Art. 44: the unit's other requests for the same information")
    similar.add_argument("id", help="the request's number")
    propose = rs.add_parser("propose", parents=[common], help="Art. 44: make information several applicants asked "
                            "for a draft item of proactive disclosure, linked to their requests")
    propose.add_argument("ids", nargs="+", metavar="ID", help="the requests (two or more)")
    propose.add_argument("--title", required=True, help="the item's title, one line")
    propose.add_argument("--category", required=True, help="1..6 or a sub-item such as 3.4")
    propose.add_argument("--timing", default="immediate", help="long_term, periodic or immediate")
    propose.add_argument("--as", dest="actor", required=True, help="the drafter of the item")


def _option(p: argparse.ArgumentParser, option: str, day: Callable[[str], date], count: Callable[[str], int]) -> None:
    flag = "--" + option.replace("_", "-")
    if option == "correct_by":
        p.add_argument(flag, type=day, help="the day to correct by (default: [requests] correction_days later)")
    elif option == "due_on":
        p.add_argument(flag, type=day, required=True, help="the new due day")
    elif option == "days":
        p.add_argument(flag, type=count, required=True, help="working days more (at most 20)")
    elif option == "pages":
        p.add_argument(flag, type=count, help="by_quantity: the pages of the information")
    elif option == "n":
        p.add_argument(flag, type=count, required=True, help="which review of the request (1 for the first)")
    elif option == "item":
        p.add_argument(flag, action="append", required=True, help="what to correct; repeat for each")
    elif option == "concern":
        p.add_argument(flag, help="a third party's: the rights disclosure may harm (商业秘密, 个人隐私)")
    elif option == "party":
        p.add_argument(flag, required=True, choices=["third_party", "other_office"],
                       help="a third party (Art. 32) or another office (Art. 34)")
    elif option == "basis":
        p.add_argument(flag, required=True, choices=["by_count", "by_quantity"],
                       help="by the applicant's requests this month, or by pages")
    elif option == "kind":
        p.add_argument(flag, required=True, choices=["reconsideration", "lawsuit", "lawsuit_after_reconsideration"],
                       help="行政复议, 行政诉讼, or 行政诉讼 after 行政复议")
    elif option == "outcome":
        p.add_argument(flag, required=True, choices=["upheld", "corrected", "other"], help="维持, 纠正 or 其他")
    elif option == "consulted":
        p.add_argument(flag, required=True, help="how the letter names them (a role, not a person's name)")
    else:  # reason
        p.add_argument(flag, required=True, help="why (it is recorded and stated in the letter)")


def run(cli: Cli) -> int:
    a = cli.args
    with cli.workflow() as wf:
        desk = wf.requests
        if a.sub == "new":
            from workflow.requests import Applicant

            who = Applicant(a.applicant_name, a.applicant_type, a.id_document, a.phone, a.email, a.address)
            r = desk.new(unit=a.unit, handler=a.actor, via=a.via, applicant=who, description=a.description,
                         form=a.form, received_on=a.received_on, oral=a.oral, id=a.id)
            cli.emit(request_obj(r), [cli.tr("{request}  due {due}", request=r.id, due=r.due_on)])
        elif a.sub == "show":
            r = desk.request(a.id, applicant=a.applicant)
            letters = desk.letters(a.id)
            cli.emit(request_obj(r) | {"letters": [{"seq": s.seq, "action": s.action} | sent for s, sent in letters]},
                     request_lines(cli, r, letters))
        elif a.sub == "list":
            cli.stream(desk.iter_requests(state=a.state, unit=a.unit, limit=a.limit, after=a.after), request_obj,
                       request_line)
        elif a.sub == "letter":
            return _letter(cli, wf)
        elif a.sub == "propose":
            i = desk.propose_item(a.ids, drafter=a.actor, title=a.title, category=a.category, timing=a.timing)
            cli.emit({"id": i.id, "state": i.state, "requests": sorted(set(a.ids))}, [i.id])
        elif a.sub in ("history", "similar"):
            if a.sub == "history":
                _signatures(cli, wf, desk.history(a.id))
            else:
                found = desk.same_information(a.id)
                cli.emit([{"id": i, "score": round(s, 3)} for i, s in found], [f"{i}  {s:.2f}" for i, s in found])
        else:
            _signatures(cli, wf, [_sign(a, desk)], one=True)
    return 0


def _sign(a: argparse.Namespace, desk: Any) -> Any:
    """The signature of a writing subcommand."""
    if a.sub == "reply":
        return desk.reply(a.id, actor=a.actor, type=a.type, how=a.how, reason=a.reason, ground=a.ground,
                          other_office=a.other_office, law=a.law)
    if a.sub == "revise":
        return desk.revise(a.id, actor=a.actor, description=a.description, form=a.form)
    if a.sub == "advance":
        return desk.advance(a.id, a.action, actor=a.actor, reason=a.reason, comment=a.comment)
    if a.sub == "erase":
        return desk.erase(a.id, actor=a.actor)
    if a.sub == "reassign":
        return desk.reassign(a.id, to=a.to, actor=a.actor, reason=a.reason)
    common = {"actor": a.actor, "on": a.on, "comment": a.comment}
    if a.sub == "correction":
        by = a.correct_by
        return desk.ask_correction(a.id, correct_by=by, items=a.item, **common)
    calls: dict[str, Callable[[], Any]] = {
        "corrected": lambda: desk.corrected(a.id, **common),
        "extend": lambda: desk.extend(a.id, days=a.days, reason=a.reason, **common),
        "consult": lambda: desk.consult(a.id, party=a.party, consulted=a.consulted, concern=a.concern, **common),
        "consulted": lambda: desk.consulted(a.id, party=a.party, **common),
        "fee": lambda: desk.charge(a.id, basis=a.basis, pages=a.pages, **common),
        "paid": lambda: desk.paid(a.id, **common),
        "period": lambda: desk.set_period(a.id, due_on=a.due_on, reason=a.reason, **common),
        "review": lambda: desk.review(a.id, kind=a.kind, **common),
        "outcome": lambda: desk.review_outcome(a.id, n=a.n, outcome=a.outcome, **common),
    }
    return calls[a.sub]()


def _letter(cli: Cli, wf: Workflow) -> int:
    a = cli.args
    desk = wf.requests
    if a.sha256 is None:
        letters = desk.letters(a.id)
        cli.emit([{"seq": s.seq, "action": s.action, "at": s.at} | sent for s, sent in letters],
                 [f"{s.seq:>4} {s.action:<15} {fmt:<4}  {sha}" for s, sent in letters
                  for fmt, sha in sorted(sent.items())])
        return 0
    doc = desk.document(a.sha256) if a.stored else desk.printed(a.id, a.sha256)
    if a.stored and not any(a.sha256 in sent.values() for _, sent in desk.letters(a.id)):
        from workflow.errors import NotFound

        raise NotFound("request {request} sent no document {sha256}", request=a.id, sha256=a.sha256[:12])
    path = a.out or Path(doc.name)
    path.write_bytes(doc.content)
    cli.emit({"file": str(path), "sha256": doc.sha256, "media_type": doc.media_type}, [str(path)])
    return 0


def _signatures(cli: Cli, wf: Workflow, sigs: list[Any], *, one: bool = False) -> None:
    if not sigs:
        cli.emit([], [])
        return
    pipeline = wf.pipeline_in_force(sigs[0].chain, "request")
    objs = [output.signature_obj(s, pipeline) for s in sigs]
    tz = wf.config.office.tz
    cli.emit(objs[0] if one else objs, [output.signature_line(s, pipeline, tz) for s in sigs])


def request_obj(r: Request) -> dict[str, Any]:
    out = {k: v.isoformat() if isinstance(v, date) else v for k, v in vars(r).items() if k != "applicant"}
    out["reviews"] = [dict(v) for v in r.reviews]
    if r.applicant is not None:
        out["applicant"] = r.applicant.identity()
    return out


def request_line(r: Request) -> str:
    due = r.due_on.isoformat() if r.due_on else "-"
    return (f"{output.pad(r.id, 22)} {r.received_on.isoformat()}  {output.pad(r.status, 20)} {due}  "
            f"{output.pad(r.state, 22)} {r.applicant_type}")


def request_lines(cli: Cli, r: Request, letters: list[Any]) -> list[str]:
    lines = [f"{r.id}  {output.safe(r.description)}",
             cli.tr("  state     {state}  (round {round}, version {version})  handler {handler}", state=r.state,
                    round=r.round, version=r.version, handler=r.handler),
             cli.tr("  received  {day} ({via})  applicant {type}  form {form}", day=r.received_on, via=r.received_via,
                    type=r.applicant_type, form=r.form),
             cli.tr("  clock     {status}  due {due}", status=r.status,
                    due=(r.due_on.isoformat() + (cli.tr(" (provisional)") if r.provisional else "")) if r.due_on
                    else "-")]
    if r.reply:
        lines.append(cli.tr("  reply     {type}", type=r.reply.get("type")))
    for i, v in enumerate(r.reviews, 1):
        lines.append(cli.tr("  review {n}  {kind} filed {day}: {outcome}", n=i, kind=v["kind"], day=v["filed_on"],
                            outcome=v["outcome"] or cli.tr("pending")))
    for s, sent in letters:
        lines.append(cli.tr("  letter    {action} (event {seq}): {docs}", action=s.action, seq=s.seq,
                            docs=", ".join(f"{k} {v[:12]}" for k, v in sorted(sent.items()))))
    if r.applicant is not None:
        who = r.applicant
        lines.append(cli.tr("  applicant {name}  {details}", name=output.safe(who.name), details=output.safe(
            "  ".join(v for v in (who.id_document, who.phone, who.email, who.address) if v))))
    elif r.erased:
        lines.append(cli.tr("  applicant erased"))
    return lines
