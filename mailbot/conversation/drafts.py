"""A request being completed: asked for what is missing, confirmed when long, submitted.

The draft `{start, end, party_size, first_name, description, vague}` lives in the sender's
conversation about no booking yet, with `awaiting` naming what is asked (e.g.
`dates,party_size` or `long_stay`); every answer in that thread is merged until it is complete.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from mailbot import actions
from mailbot.conversation import answers, check, wait
from mailbot.conversation.turn import DATE_REJECTIONS, IGNORED, PROCESSED, REJECTED, Turn, day, iso
from mailbot.core import booking as rules
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.outbound.render import date_range
from mailbot.store import queries
from mailbot.store.tables import Conversation
from mailbot.understand import dates, people
from mailbot.understand.vocabulary import vocabulary

log = logging.getLogger(__name__)

CHECKABLE = ("start", "end", "party_size", "first_name")
_BARE_NUMBER = re.compile(r"^\D{0,12}?(\d{1,2})\D{0,20}$")


def _greeting(context: dict[str, Any], draft: dict[str, Any]) -> dict[str, Any]:
    """Greet by the first name a request gave, before the person is known to the store."""
    if draft.get("first_name"):
        return {**context, "recipient_name": draft["first_name"]}
    return context


def missing(draft: dict[str, Any]) -> list[str]:
    gaps = []
    if not (draft.get("start") and draft.get("end")):
        gaps.append("dates")
    if not draft.get("party_size"):
        gaps.append("party_size")
    if not draft.get("first_name"):
        gaps.append("first_name")
    return gaps


def new_request(turn: Turn) -> None:
    """A new request (BR-012: so many per sender and day) becomes a draft."""
    limits = turn.rt.house.limits
    used = queries.count_recent(turn.session, "request", turn.sender, answers.day_start(turn.rt))
    if used >= limits.requests_per_day:
        turn.say("rate_limited", {"limit": limits.requests_per_day})
        turn.finish(REJECTED, "rate_limited", f"{used} new requests today (BR-012)")
        return
    busy = answers.house_busy(turn.rt, turn.session)
    if busy is not None:  # no answer: a flood's senders are likely forged
        log.warning("new request not taken: %s new requests in the last hour", busy,
                    extra={"correlation_id": turn.cause.correlation_id})
        turn.finish(REJECTED, "house_busy", f"{busy} new requests house-wide in the last hour")
        return
    queries.count_use(turn.session, "request", turn.sender, turn.rt.now())
    it = turn.it
    draft: dict[str, Any] = {
        "start": iso(it.start), "end": iso(it.end), "party_size": it.party_size,
        "first_name": it.first_name, "description": turn.description(), "vague": it.vague,
        # fields read with doubt (SPEC §8 `ask`): confirmed by a reply before submitting
        "check": [f for f in it.ask if f in CHECKABLE],
    }
    advance(turn, draft, None, learned=True)


def advance(turn: Turn, draft: dict[str, Any], conversation: Conversation | None,
            learned: bool) -> None:
    """Ask for what is still missing, or submit once the request is complete."""
    gaps = missing(draft)
    if not gaps and draft.get("check"):
        _ask_check(turn, draft, conversation)
        return
    if not gaps:
        submit(turn, draft, conversation)
        return
    conversation = conversation or turn.draft_thread()
    conversation.draft = dict(draft)
    conversation.awaiting = ",".join(gaps)
    context = {"missing": gaps, "vague": draft.get("vague"),
               "known_start": day(draft.get("start")), "known_end": day(draft.get("end")),
               "known_party_size": draft.get("party_size"),
               "known_first_name": draft.get("first_name"), "repeated": not learned,
               "example": answers.example_stay(turn.rt, turn.session, draft.get("vague"))
               if "dates" in gaps else None}
    if not learned and not turn.repeat_allowed(conversation):
        turn.finish(IGNORED, "unclear_answer", "nothing new learned; question already repeated today")
        return
    turn.say("question_missing", _greeting(context, draft), conversation=conversation)
    turn.finish(PROCESSED, "asked_missing", f"missing: {', '.join(gaps)}")


def _ask_check(turn: Turn, draft: dict[str, Any], conversation: Conversation | None) -> None:
    """Show the best reading and ask whether it is right; "JA" or a correction completes it."""
    conversation = conversation or turn.draft_thread()
    conversation.draft, conversation.awaiting = dict(draft), "check"
    turn.say("question_check", _greeting({
        "change": None, "start": day(draft.get("start")), "end": day(draft.get("end")),
        "party_size": draft.get("party_size"), "first_name": draft.get("first_name"),
        "doubtful": draft["check"]}, draft), conversation=conversation)
    turn.finish(PROCESSED, "asked_check", f"read with doubt: {', '.join(draft['check'])}")


def submit(turn: Turn, draft: dict[str, Any], conversation: Conversation | None,
           long_stay_confirmed: bool = False) -> None:
    start, end = day(draft.get("start")), day(draft.get("end"))
    assert start is not None and end is not None
    request = rules.Request(turn.sender, str(draft["first_name"]), start, end,
                            int(draft["party_size"]), str(draft.get("description") or ""),
                            long_stay_confirmed, authenticated=turn.authentic)
    try:
        booking = actions.submit(turn.rt, turn.session, request, turn.cause)
    except rj.ConfirmationRequired as exc:
        conversation = conversation or turn.draft_thread()
        conversation.draft, conversation.awaiting = dict(draft), "long_stay"
        turn.say("question_long_stay", _greeting({
            "days": exc.days, "start": start, "end": end,
            "limit": turn.rt.house.limits.long_stay_warn_days}, draft), conversation=conversation)
        turn.finish(PROCESSED, "asked_long_stay", f"{exc.days} days (BR-027)")
        return
    except rj.Conflict as exc:
        own = _own_booking(turn, start, end)
        if own is not None:
            _already_there(turn, own, draft, conversation)
        else:
            _retry(turn, exc, draft, conversation, start, end)
        return
    except rj.Rejection as exc:
        _retry(turn, exc, draft, conversation, start, end)
        return
    if conversation is not None:
        conversation.booking_id, conversation.role = booking.id, "requester"
        conversation.awaiting, conversation.draft = None, None
    turn.booking_id = booking.id
    turn.finish(PROCESSED, "submitted",
                f"submitted booking #{booking.id} ({date_range(booking.start, booking.end)}, "
                f"{booking.party_size} Personen, {booking.first_name}): Pending")


def _retry(turn: Turn, exc: rj.Rejection, draft: dict[str, Any],
           conversation: Conversation | None, start: date, end: date) -> None:
    """A rejected date or value is answered, and the draft waits for the corrected one."""
    conversation = conversation or turn.draft_thread()
    retry = None
    extra: dict[str, Any] = {"requested_start": start, "requested_end": end}
    if isinstance(exc, DATE_REJECTIONS):
        retry = "dates"
        # the free stays the answer proposes: "das zweite" picks one (issue 16)
        extra["free"] = answers.free_near(turn.rt, turn.session, start, end)
        draft = {**draft, "start": None, "end": None, "vague": None,
                 "proposed": [[iso(f["start"]), iso(f["end"])] for f in extra["free"]]}
        if isinstance(exc, rj.Conflict):
            draft = wait.remember(draft, start, end)
    elif isinstance(exc, rj.Invalid) and exc.field in ("party_size", "first_name"):
        retry = exc.field
        draft = {**draft, exc.field: None}
    conversation.draft = dict(draft) if retry else None
    conversation.awaiting = retry
    turn.rejected(exc, conversation, None, retry, _greeting(extra, draft))


def _own_booking(turn: Turn, start: date, end: date) -> Booking | None:
    """The sender's own live booking the requested dates run into, if any."""
    mine = answers.upcoming(list(queries.bookings_of(turn.session, turn.sender)), turn.rt.today())
    return next((b for b in mine if b.state.blocks_dates and b.overlaps(start, end)), None)


def _already_there(turn: Turn, own: Booking, draft: dict[str, Any],
                   conversation: Conversation | None) -> None:
    """The same request twice is no conflict with oneself: say where the first one stands."""
    assert own.id is not None
    if conversation is not None:
        conversation.awaiting, conversation.draft = None, None
    turn.booking_id = own.id
    same = (draft.get("start"), draft.get("end")) == (iso(own.start), iso(own.end))
    turn.say("request_exists", {
        "current": answers.booking_view(turn.rt, own), "same_dates": same,
        "requested_start": day(draft.get("start")), "requested_end": day(draft.get("end"))},
        conversation=turn.booking_thread(own), booking_id=own.id)
    turn.finish(PROCESSED, "request_exists", f"the sender's booking #{own.id} is already there")


def answer(turn: Turn, conversation: Conversation) -> None:
    """A reply in the thread of an unfinished request."""
    awaiting = conversation.awaiting or ""
    draft = dict(conversation.draft or {})
    it = turn.it
    if it.intent == "cancel" or awaiting == "long_stay" and it.intent == "deny":
        conversation.awaiting, conversation.draft = None, None
        turn.say("request_dropped", conversation=conversation)
        turn.finish(PROCESSED, "request_dropped", "the unfinished request was called off")
        return
    if awaiting == "long_stay":
        _answer_long_stay(turn, conversation, draft)
        return
    if awaiting == "check":
        # "JA" confirms the reading; anything else corrects it, but a "Nein" that says
        # nothing new says only that the reading is wrong: the question stands
        asked = draft.pop("check", [])
        fields = ["dates", "party_size"] + (["first_name"] if "first_name" in asked else [])
        learned = it.intent != "approve" and merge(turn, draft, ",".join(fields))
        if not learned and not check.confirms(turn) and check.denies(turn):
            if not turn.repeat_allowed(conversation):
                turn.finish(IGNORED, "unclear_answer", "nothing new; check already repeated today")
                return
            _ask_check(turn, {**draft, "check": asked}, conversation)
            return
        advance(turn, draft, conversation, learned=True)
        return
    if wait.asked(turn, draft):
        wait.wait(turn, conversation, draft)
        return
    learned = merge(turn, draft, awaiting)
    advance(turn, draft, conversation, learned)


def _answer_long_stay(turn: Turn, conversation: Conversation, draft: dict[str, Any]) -> None:
    """BR-027: "JA" submits the long stay, new dates replace it, anything else asks again."""
    it = turn.it
    if it.start and it.end and (iso(it.start), iso(it.end)) != (draft.get("start"),
                                                                draft.get("end")):
        draft.update(start=iso(it.start), end=iso(it.end))
        turn.story.append("new dates instead of the long stay")
        advance(turn, draft, conversation, learned=True)
    elif it.intent == "approve":
        turn.story.append("long stay confirmed (BR-027)")
        submit(turn, draft, conversation, long_stay_confirmed=True)
    elif not turn.repeat_allowed(conversation):
        turn.finish(IGNORED, "unclear_answer", "long stay question already repeated today")
    else:
        start, end = day(draft.get("start")), day(draft.get("end"))
        assert start is not None and end is not None
        turn.say("question_long_stay", {"days": (end - start).days + 1, "start": start,
                                        "end": end,
                                        "limit": turn.rt.house.limits.long_stay_warn_days},
                 conversation=conversation)
        turn.finish(PROCESSED, "asked_long_stay", "answer was neither JA nor new dates")


def merge(turn: Turn, draft: dict[str, Any], awaiting: str) -> bool:
    """Fold the answer into the draft; True when it taught us something."""
    it, vocab = turn.it, vocabulary()
    text = turn.spoken()
    before = dict(draft)
    start, end, vague = it.start, it.end, it.vague
    if start is None and end is None and "dates" in awaiting:
        stay = dates.find_stay(text, turn.rt.today(), vocab, partial=True)
        start, end, vague = stay.start, stay.end, stay.vague
        picked = _proposal(text, draft.get("proposed") or [])
        if start is None and end is None and picked is not None:
            start, end = picked
    if start is not None:
        draft["start"] = iso(start)
    if end is not None:
        draft["end"] = iso(end)
    if start is not None or end is not None:
        draft["vague"] = None
    elif vague:
        draft["vague"] = vague
    size = it.party_size
    if size is None and "party_size" in awaiting:
        size = people.party_size(text, vocab)
        bare = _BARE_NUMBER.match(text) if size is None and "dates" not in awaiting else None
        if size is None and (bare or text.strip().lower() in vocab.number_words):
            size = int(bare.group(1)) if bare else vocab.number_words[text.strip().lower()]
    if size is not None:
        draft["party_size"] = size
    name = it.first_name
    if name is None and "first_name" in awaiting:
        name = _name_answer(text)
    if name and (not draft.get("first_name") or "first_name" in awaiting):
        draft["first_name"] = name
    changed = [k for k in ("start", "end", "party_size", "first_name", "vague")
               if draft.get(k) != before.get(k)]
    turn.story.append(f"answer added: {', '.join(changed) or 'nothing'}")
    return bool(changed)


_ORDINAL = re.compile(r"\b(?:(erst|zweit)e[nrs]?|(frühere|spätere)[nrs]?)\b", re.IGNORECASE)


def _proposal(text: str, proposed: list[list[str]]) -> tuple[date, date] | None:
    """"das zweite", "den ersten", "den späteren": one of the free stays we proposed."""
    found = _ORDINAL.search(text)
    if not found or not proposed:
        return None
    word = (found.group(1) or found.group(2)).lower()
    index = 0 if word in ("erst", "frühere") else 1
    if index >= len(proposed):
        return None
    first, last = (date.fromisoformat(d) for d in proposed[index])
    return first, last


def _name_answer(text: str) -> str | None:
    """A reply to "wie heißt du?" is usually just the name ("Anna", "Ich bin Anna.")."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:ich\s+bin|ich\s+heiße|ich\s+heisse|mein\s+name\s+ist|name:)\s+", "",
                  line, flags=re.IGNORECASE).strip(" .!,")
    words = line.split()
    if not 1 <= len(words) <= 3:
        return None
    candidate = words[0]
    return candidate if re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['’-])*", candidate) else None
