"""The engine's tables are projections of the chains: `verify` holds them to what the chains fold to.

What the engine decides on (a person's active flag, a role, the pipeline in force, a case's state and round)
must be exactly the fold of the signed events, or a signature could be decided on a forged table; and each
item's content must hash to what its last signature signed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from hashlib import sha256

from states.authority import ADMIN, REGISTER, Register, UnitBook
from states.pipeline import Pipeline
from states.redaction import Redactions
from states.rules import Case
from workflow import documents
from workflow.ledger.events import content_hash
from workflow.model import signed_content
from workflow.requests import commitment
from workflow.requests import signed_content as request_content
from workflow.uow import Row, Work


def authority(work: Work, register: Register, books: Mapping[str, UnitBook], broken: set[str]) -> list[str]:
    """People, roles, units and the pipelines in force (of the chains not `broken`: theirs are not known)."""
    problems = []
    people = register.people()
    rows = {r["id"]: r for r in work.rows("people")}
    for pid in sorted(set(people) | set(rows)):
        p, r = people.get(pid), rows.get(pid)
        if p is None or r is None:
            missing = "in the table but added by no event" if p is None else "gone from the table"
            problems.append(f"person {pid}: {missing}")
        elif (r["name"], r["unit_id"], bool(r["active"])) != (p.name, p.unit, p.active):
            problems.append(f"person {pid}: the table says {r['name']}, unit {r['unit_id']}, "
                            f"{'active' if r['active'] else 'inactive'}; the register's events say otherwise")
    held = {(REGISTER, pid, ADMIN) for pid, p in people.items() if p.admin}
    held |= {(unit, pid, role) for unit, book in books.items() for pid, roles in book.roles.items() for role in roles}
    table = {(r["chain"], r["person_id"], r["role"]) for r in work.rows("roles") if r["chain"] not in broken}
    for chain, pid, role in sorted(table ^ held):
        granted = "granted by no event" if (chain, pid, role) in table else "granted but gone from the table"
        problems.append(f"role {role} of {pid} in {chain}: {granted}")
    units = register.units()
    unit_rows = {r["id"]: r for r in work.rows("units")}
    for uid in sorted(set(units) | set(unit_rows)):
        u, r = units.get(uid), unit_rows.get(uid)
        if u is None or r is None or (r["name"], r["kind"], bool(r["open"])) != (u.name, u.kind, u.open):
            problems.append(f"unit {uid}: the table and the register's events disagree")
    for r in work.rows("pipeline_definitions"):  # the built-in ones too, though the engine judges by its own copy
        if Pipeline.from_definition(r["definition"], r["fingerprint"]) is None:
            problems.append(f"pipeline {r['fingerprint'][:12]}: its stored definition does not hash to its "
                            "fingerprint (altered)")
    adopted = {(unit, kind): fp for unit, book in books.items() for kind, (fp, _) in book.pipelines.items()}
    in_table = {(r["unit_id"], r["kind"]): r["pipeline"] for r in work.rows("adoptions") if r["unit_id"] not in broken}
    for unit, kind in sorted(set(adopted) | set(in_table)):
        if adopted.get((unit, kind)) != in_table.get((unit, kind)):
            problems.append(f"unit {unit}: the {kind} pipeline in force is not the one its chain adopted last")
    return problems


def screening(work: Work, books: Mapping[str, UnitBook], broken: set[str]) -> list[str]:
    """Each stored set of screening rules is the one its fingerprint names, and each unit's in force (of the chains
    not `broken`) is the one its chain adopted last (none: the built-in rules, and no row)."""
    from workflow.screening import from_definition

    problems = [f"screening rules {r['fingerprint'][:12]}: their stored definition is not the one their "
                "fingerprint names (altered)" for r in work.rows("all_screen_rules")
                if from_definition(r["definition"], r["fingerprint"]) is None]
    adopted = {unit: book.screen for unit, book in books.items() if book.screen is not None}
    in_table = {r["unit_id"]: r["rules"] for r in work.rows("screen_adoptions") if r["unit_id"] not in broken}
    for unit in sorted(set(adopted) | set(in_table)):
        if adopted.get(unit) != in_table.get(unit):
            problems.append(f"unit {unit}: the screening rules in force are not the ones its chain adopted last")
    return problems


def cases(work: Work, unit: str, folded: Mapping[tuple[str, str], Case], *, every: bool) -> list[str]:
    """A unit's cases against their fold; `every`: each row must have events and each fold a row (a full
    verify), else only the cases folded are compared (since)."""
    problems = []
    if every:
        rows = {(r["kind"], r["id"]): r for r in work.rows("unit_cases", {"unit": unit})}
        content = {("item", r["id"]): item_hash(r) for r in work.rows("unit_items", {"unit": unit})}
        content |= {("request", r["id"]): _request_hash(r) for r in work.rows("unit_requests", {"unit": unit})}
    else:  # each by its key: time in proportion to the cases the new events touched
        found = (work.one("unit_case", {"unit": unit, "kind": kind, "id": cid}) for kind, cid in folded)
        rows = {(r["kind"], r["id"]): r for r in found if r is not None}
        items = (work.one("item", {"id": cid}) for kind, cid in folded if kind == "item")
        content = {("item", r["id"]): item_hash(r) for r in items if r is not None}
        asked = (work.one("request", {"id": cid}) for kind, cid in folded if kind == "request")
        content |= {("request", r["id"]): _request_hash(r) for r in asked if r is not None}
    for key in sorted(set(rows) | set(folded) if every else folded):
        case, row = folded.get(key), rows.get(key)
        label = f"{key[0]} {key[1]}"
        if case is None:
            problems.append(f"{label}: has no events in the chain of unit {unit} (its history was deleted)")
        elif row is None:
            problems.append(f"{label}: has events in the chain of unit {unit} but its row is gone (deleted)")
        elif (row["state"], row["round"]) != (case.state, case.round):
            problems.append(f"{label}: state {row['state']} round {row['round']} disagrees with its signatures "
                            f"(they give {case.state} round {case.round})")
        elif row["version"] != case.version:
            problems.append(f"{label}: version {row['version']} but {case.version} events (one per version)")
        elif row["drafter"] != case.drafter:
            problems.append(f"{label}: drafter {row['drafter']} but its events make it {case.drafter}'s")
        elif (_signers(row["signers"]) != dict(case.signers) or row["content_hash"] != case.content_hash
              or row["roles"] != ",".join(sorted(case.roles))):
            problems.append(f"{label}: its row's round signers or content hash disagree with its signatures")
        elif content.get(key) != case.content_hash:
            problems.append(f"{label}: content differs from what was last signed")
    return problems


def strays(work: Work, chains: set[str], walked: int | None) -> list[str]:
    """Rows that belong to no chain verified: cases of a unit without a chain, items without a case, and (when
    every chain was walked to its end: `walked` events) events outside every chain's walk."""
    problems = [f"{r['kind']} {r['id']}: belongs to unit {r['unit_id']}, which has no chain"
                for r in work.rows("all_case_keys") if r["unit_id"] not in chains]
    problems += [f"item {r['id']}: has content but no case" for r in work.rows("item_ids_without_case")]
    stored = int(work.one("count_events")["n"])  # type: ignore[index]
    if walked is not None and stored != walked:
        problems.append(f"{stored - walked} events of the table lie outside every chain (a sequence number below 1, "
                        "past a chain's head, or a chain of no unit)")
    return problems


def _signers(text: str) -> object:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def item_hash(r: Row) -> str | None:
    """The hash of an item's content as its row holds it; None if a field holds what no signature made."""
    try:
        tags = json.loads(r["tags"])
        if not isinstance(tags, list):
            return None
        attachments = json.loads(r["attachments"]) if r["attachments"] else []
        if not isinstance(attachments, list):
            return None
        statistics = json.loads(r["statistics"]) if r["statistics"] else None
        redactions = Redactions.of(json.loads(r["redactions"])) if r["redactions"] else None
        if redactions is not None and (r["redacted_body"] != redactions.apply(r["body"]) or sha256(
                r["redacted_body"].encode()).hexdigest() != redactions.redacted):
            return None  # the body published is not the one signed with those spans withheld
        if redactions is None and r["redacted_body"] is not None:
            return None
        return content_hash(signed_content(
            r["title"], r["body"], r["unit_id"], r["category"], r["timing"], r["kind"], r["interprets"], tags,
            date.fromisoformat(r["formed_on"]) if r["formed_on"] else None, r["schedule"], r["period"], attachments,
            r["doc_type"], statistics, r["interpreter"], redactions))
    except (TypeError, ValueError, AttributeError, UnicodeError, KeyError):
        return None


def numbers(work: Work, unit: str, last: Mapping[int, int], kind: str = "item") -> list[str]:
    """The last item (or request) number of each year of a unit: the next creation's number is taken from it."""
    table = {r["year"]: r["last"] for r in work.rows(f"{kind}_numbers", {"unit": unit})}
    return [f"unit {unit}: the last {kind} number of {year} is {table.get(year)} in the table, {last.get(year)} by "
            "its chain's creations" for year in sorted(set(table) | set(last)) if table.get(year) != last.get(year)]


def attachments(work: Work, unit: str) -> list[str]:
    """Each document an item of the unit carries (its signatures sign the hashes): present, and still itself."""
    problems = []
    for r in work.rows("unit_items", {"unit": unit}):
        for sha in json.loads(r["attachments"]) if r["attachments"] else []:
            found = documents.find(work, str(sha))
            if found is None or not found.intact:
                problems.append(f"item {r['id']}: document {str(sha)[:12]} it carries is "
                                f"{'gone' if found is None else 'altered'} (zwgk_document)")
    return problems


def applicants(work: Work, erased: Mapping[str, bool]) -> list[str]:
    """Each request's applicant against the commitment its signatures sign: still the same person and contact
    details, or erased, and erased only by a signed erasure."""
    problems = []
    for request_id in sorted(erased):
        r, a = work.one("request", {"id": request_id}), work.one("applicant", {"id": request_id})
        if r is None:
            continue  # reported with its case
        if a is None or (a["erased_at"] is None) != (a["identity"] is not None):
            problems.append(f"request {request_id}: its applicant's record is gone or half erased")
        elif a["erased_at"] is not None and not erased[request_id]:
            problems.append(f"request {request_id}: its applicant was erased without a signed erasure")
        elif a["identity"] is not None and commitment(str(a["salt"]), _identity(a["identity"])) != r["applicant"]:
            problems.append(f"request {request_id}: its applicant is not the one its signatures commit to (altered)")
    return problems


def _identity(text: str) -> dict[str, object]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _request_hash(r: Row) -> str | None:
    try:
        return content_hash(request_content(r, r["unit_id"]))
    except (TypeError, ValueError):
        return None
