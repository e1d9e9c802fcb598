"""Link recovery by mail (BR-021/BR-012): the same answer whether or not the address is
known, the link only when it is; a cooldown and an hourly limit per address."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailbot.conversation import answers
from mailbot.conversation.turn import IGNORED, PROCESSED, Turn
from mailbot.store import queries
from mailbot.store.tables import Person
from mailbot.web import links


def recover_link(turn: Turn) -> None:
    limits, now = turn.rt.house.limits, turn.rt.now()
    last = queries.last_recent(turn.session, queries.LINK_RECOVERY, turn.sender)
    if last is not None and now - last < timedelta(seconds=limits.recovery_cooldown_seconds):
        turn.finish(IGNORED, "recovery_cooldown", "link asked for again within the cooldown")
        return
    if queries.count_recent(turn.session, queries.LINK_RECOVERY, turn.sender,
                            answers.within_hour(turn.rt)) >= limits.recoveries_per_hour:
        turn.finish(IGNORED, "recovery_rate_limited", "too many link recoveries this hour")
        return
    queries.count_use(turn.session, queries.LINK_RECOVERY, turn.sender, now)
    person = turn.session.scalars(select(Person).where(Person.email == turn.sender)).first()
    approver = turn.rt.house.approver_for_address(turn.sender)
    turn.say("link_recovery", {
        "link": links.person_url(turn.rt, person.link_id) if person else None,
        "approver_link": links.approver_url(
            turn.rt, queries.approver_link_id(turn.session, approver, now)) if approver else None,
    })
    turn.finish(PROCESSED, "link_sent", "known address" if person or approver
                else "unknown address (neutral answer)")
