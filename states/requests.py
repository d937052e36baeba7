"""The legal clock of a request for government information (《政府信息公开条例》Arts. 30-35, 42), folded from its
signed steps: the due day is always recomputed from them, never stored.

- Reply within 20 working days of receipt (Art. 33), the receipt day not counted.
- One 补正 notice, within 7 working days of receipt and before any other step (Art. 30); the clock starts again
  from the day the corrected request arrives; not corrected by the day the notice gave, the request lapses
  (其他处理: 逾期不补正).
- An extension of at most 20 working days, approved by the head of the disclosure office, before the due day.
- Consulting a third party (Art. 32) or another office (Art. 34) stops the clock from the day the letter is sent
  until the day its reply arrives (counting again the day after), at most until the 15th working day. A stop
  comes before the due day: on it the last working day is counted, and nothing is left to stop.
- A fee notice (Art. 42) stops it until the fee is paid; unpaid within 20 working days, the request lapses.
- Art. 35: for a very large or repeated request, a reasonable longer period, recorded with its reason.

`judge` decides each step on the clock so far and returns the clock after it. Given the calendar (when a step is
signed) it also holds the steps to the working-day limits; without one (`verify`, which must not change its answer
when next year's schedule is published) it checks the rest, and takes the limits the step recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

from states.errors import InputMissing, Phrase
from states.replies import REPLIES

REPLY_DAYS = 20
MAX_EXTENSION = 20
CORRECTION_WITHIN = 7
CONSULT_DAYS = 15
PAY_DAYS = 20

DRAFTER = "@drafter"  # the request pipeline's drafter role: the handler (承办人)
OFFICE_HEAD = "disclosure_office_head"  # 政府信息公开工作机构负责人

# The steps of a request besides its pipeline's, with the roles that may sign them: the law's, not local practice.
STEPS: dict[str, tuple[str, ...]] = {
    "correct_notice": (DRAFTER,), "corrected": (DRAFTER,), "consult": (DRAFTER,), "consulted": (DRAFTER,),
    "fee_notice": (DRAFTER,), "fee_paid": (DRAFTER,), "extend": (OFFICE_HEAD,), "art35": (OFFICE_HEAD,),
    "review": (DRAFTER, OFFICE_HEAD), "review_outcome": (DRAFTER, OFFICE_HEAD), "erase": (OFFICE_HEAD,),
    "propose": (DRAFTER, OFFICE_HEAD),
}
AFTER_REPLY = frozenset({"review", "review_outcome", "erase"})  # the others only before the reply goes out, but:
ANYTIME = frozenset({"propose"})  # Art. 44: the information asked for is proposed for proactive disclosure
REPLY = "send"  # the pipeline's step that sends the reply
# The reply that closes a request the applicant let lapse, by the stop of its clock that lapsed (其他处理).
LAPSED = {"correction": "other.not_corrected", "fee": "other.fee_unpaid"}
STILL_UNCLEAR = "unavailable.still_unclear"  # needs a correction that came
WAITS = {"correction": Phrase("a correction"), "fee": Phrase("the fee")}  # what the applicant is waited on for
PARTY_WORDS = {"third_party": Phrase("a third party"), "other_office": Phrase("another office")}
PROVISIONAL_SLACK = 14  # days: how far a limit counted without a year's lunar holidays can be from the real one
MOVES_DUE = frozenset({"extend", "art35", "consult", "fee_notice"})  # refused once the due day has passed
PARTIES = ("third_party", "other_office")
REVIEWS = ("reconsideration", "lawsuit", "lawsuit_after_reconsideration")  # 行政复议, 直接起诉, 复议后起诉
OUTCOMES = ("upheld", "corrected", "other")  # 维持, 纠正, 其他 (none yet: 尚未审结)


class Calendar(Protocol):
    def add_working_days(self, start: date, n: int) -> Any: ...  # .day: date, .provisional: bool

    def working_days_between(self, start: date, end: date) -> int: ...

    def is_working_day(self, day: date) -> bool: ...

    def knows(self, year: int) -> bool: ...


@dataclass(frozen=True)
class Stop:
    kind: str  # correction | consultation | fee
    since: date  # the day the notice or letter went out
    limit: date  # correct by / the 15th working day / pay by
    until: date | None = None  # the day it ended: corrected, the reply arrived, paid
    party: str | None = None  # a consultation's

    def end(self, calendar: Calendar) -> date:
        """The last day not counted: a consultation without a reply counts again after its 15th working day, as the
        calendar now says (the limit recorded may have been counted on a provisional one)."""
        if self.until is not None:
            return self.until
        return calendar.add_working_days(self.since, CONSULT_DAYS).day if self.kind == "consultation" else self.limit


@dataclass(frozen=True)
class Review:
    kind: str  # one of REVIEWS
    filed_on: date
    outcome: str | None = None


@dataclass(frozen=True)
class Clock:
    received_on: date  # Art. 31
    start: date  # counted from: the receipt, or the day the corrected request arrived
    last_on: date  # the latest day a step stated: facts are entered in the order they happened
    allowance: int = REPLY_DAYS
    stops: tuple[Stop, ...] = ()
    corrected: bool = False
    extended: int = 0
    fixed_due: date | None = None  # Art. 35
    replied_on: date | None = None
    reply: str | None = None
    reviews: tuple[Review, ...] = ()
    erased: bool = False
    proposed: tuple[str, ...] = ()  # the items of proactive disclosure it was proposed for (Art. 44)

    def open(self, kind: str) -> list[Stop]:
        return [s for s in self.stops if s.kind == kind and s.until is None]

    @property
    def waiting(self) -> Stop | None:
        """The stop that waits on the applicant (a correction, a fee), if one does: the clock has no due day."""
        return next((s for s in self.stops if s.kind in LAPSED and s.until is None), None)

    def paused(self, calendar: Calendar) -> int:
        """Working days not counted since the start: those of the consultations and fees, overlaps once."""
        counted = [s for s in self.stops if s.kind != "correction" and s.since >= self.start]
        spans = sorted((s.since, s.end(calendar)) for s in counted)
        total, current = 0, None
        for since, end in spans:
            if current is not None and since <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None:
                total += calendar.working_days_between(*current)
            current = (since, end)
        return total + (calendar.working_days_between(*current) if current else 0)

    def due(self, calendar: Calendar) -> Any:
        """The reply's due day (a `Due`: .day, .provisional), or None while the applicant is waited on. Once
        replied, the day the reply was held to (a late reply stays late)."""
        if self.waiting is not None:
            return None
        if self.fixed_due is not None:
            return calendar.add_working_days(self.fixed_due, 0)
        return calendar.add_working_days(self.start, self.allowance + self.paused(calendar))

    def late(self, calendar: Calendar, today: date) -> bool:
        """Replied after its due day, or not replied and the due day has passed."""
        due = self.due(calendar)
        return due is not None and (self.replied_on or today) > due.day

    @property
    def status(self) -> str:
        if self.replied_on is not None:
            return "replied"
        waiting = self.waiting
        if waiting is not None:
            return "awaiting_" + waiting.kind
        return "consulting" if self.open("consultation") else "running"


def received(on: date) -> Clock:
    return Clock(on, on, on)


def judge(clock: Clock, action: str, data: dict[str, Any], today: date, calendar: Calendar | None, *,
          label: object, reason: str | None = None, settled_only: bool = False) -> Clock:
    """The clock after step `action` (with what the step records in `data`), or `InputMissing` naming the rule.

    `settled_only` (verify): a rule that asks the calendar is held only where its answer lies in the year the step
    was signed and is not provisional, and the step did not record that the calendar it was judged by was
    provisional (`data["provisional"]`): a schedule published since must not change what verify says of a step
    signed before it. Such a step's recorded limit is held only to within PROVISIONAL_SLACK of the calendar's."""
    def refuse(template: str, /, **params: object) -> InputMissing:
        return InputMissing("{case}: {action} {problem}", case=label, action=action,
                            problem=Phrase(template, **params))

    guessed = settled_only and data.get("provisional") is True

    def settled(found: Any) -> Any:
        """A calendar answer to hold a step to, or None (no calendar, or one the signer may not have known)."""
        unknown = settled_only and (guessed or found.provisional or found.day.year > today.year) \
            if found is not None else True
        return None if unknown else found

    if action == REPLY:
        return _reply(clock, data, today, refuse)
    on = _day(data, "on", refuse)
    if on > today:
        raise refuse("states a day ({on}) after the day it is signed ({today})", on=on, today=today)
    # A review is entered when the office learns of it, with the day it was filed: after the reply, in any order.
    floor = clock.replied_on if action == "review" and clock.replied_on is not None else clock.last_on
    if on < floor:
        raise refuse("states {on}, before {last}, a day its earlier steps stated", on=on, last=floor)
    after = replace(clock, last_on=max(on, clock.last_on))
    if action == "propose":
        item = data.get("item")
        if not isinstance(item, str) or not item or item in clock.proposed:
            raise refuse("needs the item it was proposed for, and names each item once")
        return replace(after, proposed=(*clock.proposed, item))
    if action in AFTER_REPLY:
        return _after_reply(after, action, data, refuse)
    due = settled(clock.due(calendar)) if calendar is not None else None
    if action == "correct_notice":
        if any(s.kind == "correction" for s in clock.stops):
            raise refuse("is given once only: everything to correct goes in one notice (一次性告知)")
        if clock.stops or clock.extended or clock.fixed_due is not None:  # the clock starts again after it
            raise refuse("comes before any other step of the clock")
        limit = _day(data, "correct_by", refuse)
        if limit <= on:
            raise refuse("must give the applicant a day to correct by after the notice")
        within = settled(calendar.add_working_days(clock.received_on, CORRECTION_WITHIN)) if calendar else None
        if within is not None and on > within.day:
            raise refuse("is given within {days} working days of receipt ({received})", days=CORRECTION_WITHIN,
                         received=clock.received_on)
        return replace(after, stops=(Stop("correction", on, limit),))
    if action == "corrected":
        stop = _first(clock.open("correction"))
        if stop is None:
            raise refuse("finds no 补正 notice waiting for a correction")
        if on > stop.limit:
            raise refuse("came after {limit}, the day the notice gave: the request lapsed (逾期不补正)",
                         limit=stop.limit)
        return replace(after, start=on, stops=(replace(stop, until=on),), corrected=True)
    waiting = clock.waiting
    if waiting is not None and action not in ("fee_paid",):
        raise refuse("waits for the applicant ({what} by {limit})", what=WAITS[waiting.kind], limit=waiting.limit)
    if action == "fee_paid":
        stop = _first(clock.open("fee"))
        if stop is None:
            raise refuse("finds no fee waited for")
        if on > stop.limit:
            raise refuse("came after {limit}, the day to pay by: the request lapsed (逾期未缴费)", limit=stop.limit)
        return _ended(after, stop, on)
    # Signed, not only dated, by the due day: a step entered late with an earlier day must not revive a lapsed clock.
    if due is not None and max(on, today) > due.day and action in MOVES_DUE:
        raise refuse("comes after the due day {due}, which has passed", due=due.day)
    if due is not None and on == due.day and action in ("consult", "fee_notice"):
        # All the working days are counted by the end of the due day: a stop from then on holds nothing back.
        raise refuse("comes on the due day {due}, the last working day counted: nothing is left to stop",
                     due=due.day)
    if action == "extend":
        days = _count(data, "days", refuse)
        if clock.extended:
            raise refuse("is granted once only")
        if not 1 <= days <= MAX_EXTENSION:
            raise refuse("may add 1 to {most} working days, not {days}", most=MAX_EXTENSION, days=days)
        return replace(after, allowance=clock.allowance + days, extended=days)
    if action == "art35":
        new = _day(data, "due_on", refuse)
        if not (reason or "").strip():
            raise refuse("needs the reason the longer period is reasonable")
        if due is not None and new <= due.day:
            raise refuse("must set a day after the due day {due}", due=due.day)
        if calendar is not None and (not settled_only or new.year <= today.year) and not calendar.is_working_day(new):
            raise refuse("must set a working day, not {day}", day=new)
        return replace(after, fixed_due=new)
    if action == "consult":
        party = data.get("party")
        if party not in PARTIES:
            raise refuse("needs the party consulted, one of: {parties}", parties=", ".join(PARTIES))
        if clock.open("consultation") and any(s.party == party for s in clock.open("consultation")):
            raise refuse("waits already on a consultation of {party}", party=PARTY_WORDS[str(party)])
        return _stopped(after, Stop("consultation", on, _limit(data, on, CONSULT_DAYS, calendar, settled, guessed,
                                                                refuse),
                                    party=str(party)))
    if action == "consulted":
        stops = [s for s in clock.open("consultation") if s.party == data.get("party")]
        stop = _first(stops)
        if stop is None:
            raise refuse("finds no open consultation of that party")
        return _ended(after, stop, min(on, stop.limit))
    if action == "fee_notice":
        if any(s.kind == "fee" for s in clock.stops):
            raise refuse("is sent once only: a request is charged one way, once (国办函〔2020〕109号)")
        if not isinstance(data.get("amount"), int) or isinstance(data.get("amount"), bool) or data["amount"] < 1:
            raise refuse("needs the fee in whole yuan")
        return _stopped(after, Stop("fee", on, _limit(data, on, PAY_DAYS, calendar, settled, guessed, refuse)))
    raise refuse("is no step of a request's clock")


def _reply(clock: Clock, data: dict[str, Any], today: date, refuse: Any) -> Clock:
    """The reply goes out: of a type the clock allows. A lapsed request closes only as lapsed, and only once the
    applicant's day has passed; a request waited on takes no other reply."""
    code = data.get("reply")
    if code not in REPLIES:
        raise refuse("needs a reply type of the 2021 catalogue")
    waiting = clock.waiting
    lapses = {v: k for k, v in LAPSED.items()}
    if waiting is not None and (LAPSED[waiting.kind] != code or today <= waiting.limit):
        raise refuse("cannot reply {reply} while the applicant has until {limit} ({what})", reply=code,
                     limit=waiting.limit, what=WAITS[waiting.kind])
    if code in lapses and waiting is None:
        raise refuse("replies {reply}, yet no {what} is waited for", reply=code, what=WAITS[lapses[code]])
    if code == STILL_UNCLEAR and not clock.corrected:
        raise refuse("replies that the corrected request is still unclear, yet it was never corrected")
    return replace(clock, replied_on=today, reply=str(code))


def _after_reply(clock: Clock, action: str, data: dict[str, Any], refuse: Any) -> Clock:
    if action == "erase":
        if clock.erased:
            raise refuse("was done already")
        if any(v.outcome is None for v in clock.reviews):  # the applicant is a party to a case still pending
            raise refuse("waits until every review of the reply has its outcome")
        return replace(clock, erased=True)
    if action == "review":
        kind = data.get("review")
        if kind not in REVIEWS:
            raise refuse("needs the kind of review, one of: {kinds}", kinds=", ".join(REVIEWS))
        return replace(clock, reviews=(*clock.reviews, Review(str(kind), _day(data, "on", refuse))))
    n = _count(data, "n", refuse)
    if not 1 <= n <= len(clock.reviews) or clock.reviews[n - 1].outcome is not None:
        raise refuse("names no review of this request still pending")
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise refuse("needs the outcome, one of: {outcomes}", outcomes=", ".join(OUTCOMES))
    reviews = list(clock.reviews)
    reviews[n - 1] = replace(reviews[n - 1], outcome=str(outcome))
    return replace(clock, reviews=tuple(reviews))


def _stopped(clock: Clock, stop: Stop) -> Clock:
    return replace(clock, stops=(*clock.stops, stop))


def _ended(clock: Clock, stop: Stop, until: date) -> Clock:
    return replace(clock, stops=tuple(replace(s, until=until) if s is stop else s for s in clock.stops))


def _limit(data: dict[str, Any], on: date, days: int, calendar: Calendar | None, settled: Any, guessed: bool,
           refuse: Any) -> date:
    """The step's recorded limit: the `days`-th working day after `on`, as the calendar said when it was signed (a
    provisional calendar, which knows no lunar holiday, was out by at most PROVISIONAL_SLACK)."""
    limit = _day(data, "limit", refuse)
    if guessed and calendar is not None:
        found = calendar.add_working_days(on, days).day
        if abs((limit - found).days) > PROVISIONAL_SLACK:
            raise refuse("records {limit} as its limit, further from the {days}th working day after {on} ({found}) "
                         "than a provisional calendar could be", limit=limit, days=days, on=on, found=found)
    expected = settled(calendar.add_working_days(on, days)) if calendar is not None else None
    if expected is not None and limit != expected.day:
        raise refuse("records {limit} as its limit, not the {days}th working day after {on}", limit=limit, days=days,
                     on=on)
    if limit <= on:
        raise refuse("records a limit that is not after its own day")
    return limit


def _first(stops: list[Stop]) -> Stop | None:
    return stops[0] if stops else None


def _day(data: dict[str, Any], key: str, refuse: Any) -> date:
    value = data.get(key)
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _missing(key, refuse)
    except ValueError:
        return _missing(key, refuse)


def _missing(key: str, refuse: Any) -> date:
    raise refuse("needs the day {key} as YYYY-MM-DD", key=key)


def _count(data: dict[str, Any], key: str, refuse: Any) -> int:
    value = data.get(key)
    if type(value) is not int:
        raise refuse("needs {key} as a whole number", key=key)
    return value
