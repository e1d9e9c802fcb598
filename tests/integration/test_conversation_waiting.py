"""Issue 16, "Tell me when it is free": someone refused for a conflict answers "Sag
Bescheid, wenn frei wird"; when those dates free up (a deny, a cancel, a shortening) they
get one mail. Bounded: one wish per person and range, dropped once its dates have begun."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailbot import actions
from mailbot.jobs import run_job
from mailbot.runtime import Cause, Runtime
from mailbot.store.tables import WaitingWish
from tests.conftest import Clock
from tests.support.conversation import Mailbox

ANNA, BERND, CARLA = "anna@example.org", "bernd@example.org", "carla@example.org"


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def _wishes(rt: Runtime) -> int:
    with rt.store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(WaitingWish)) or 0)


def _refused_and_waiting(mail: Mailbox, who: str = BERND, name: str = "Bernd") -> None:
    row = mail.send(who, f"Wir möchten vom 5. bis 9. März 2027 zu zweit kommen.\n\nGruß\n{name}")
    assert row.reason == "conflict"
    refused = mail.last(who, "rejected_conflict")
    assert "Sag Bescheid, wenn frei wird" in refused.text_body
    assert "Sag Bescheid, wenn frei wird" in refused.html_body
    wish = mail.reply(who, refused, "Schade. Sag Bescheid, wenn frei wird!")
    assert (wish.state, wish.reason) == ("processed", "wish_noted")
    noted = mail.last(who, "wish_noted")
    assert noted.subject == "Ich sage dir Bescheid (05.–09.03.2027)"
    assert noted.headers["In-Reply-To"]


def test_a_wish_is_told_once_when_a_deny_frees_the_dates(rt: Runtime, mail: Mailbox) -> None:
    first = mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    _refused_and_waiting(mail)
    assert _wishes(rt) == 1
    mail.new()
    with rt.store.transaction() as session:
        actions.deny(rt, session, first.booking_id or 0, "ingeborg", "Da sind wir selbst", Cause.new())
    free = [m for m in mail.new() if m.kind == "wish_free"]
    assert [m.to_address for m in free] == [BERND]
    assert free[0].subject == "Jetzt frei: 05.–09.03.2027"
    assert "/kalender/" not in free[0].text_body  # no booking, no calendar link (finding 8)
    assert "Anna" not in free[0].text_body and ANNA not in free[0].text_body
    assert _wishes(rt) == 0  # told once: the wish is gone

    # answering that mail with the dates asks for them
    again = mail.reply(BERND, free[0], "Super, dann bitte vom 5. bis 9. März 2027 zu zweit.")
    assert again.reason == "submitted"


def test_only_a_completely_free_range_is_news(rt: Runtime, mail: Mailbox) -> None:
    """Two bookings block the wish; freeing one of them is no news yet."""
    first = mail.send(ANNA, "Wir würden gern vom 3. bis 6. März 2027 zu viert kommen.\n\nLG Anna")
    second = mail.send(CARLA, "Wir würden gern vom 8. bis 10. März 2027 zu dritt kommen.\n\nCarla")
    assert first.reason == second.reason == "submitted"
    _refused_and_waiting(mail)
    mail.new()
    with rt.store.transaction() as session:
        actions.cancel(rt, session, first.booking_id or 0, ANNA, None, Cause.new())
    assert [m for m in mail.new() if m.kind == "wish_free"] == []
    with rt.store.transaction() as session:
        actions.cancel(rt, session, second.booking_id or 0, CARLA, None, Cause.new())
    assert [m.to_address for m in mail.new() if m.kind == "wish_free"] == [BERND]


def test_one_wish_per_person_and_range(rt: Runtime, mail: Mailbox) -> None:
    mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    _refused_and_waiting(mail)
    # refused again for the same dates, asking again: still one wish, and the answer says so
    mail.send(BERND, "Wir möchten vom 5. bis 9. März 2027 zu zweit kommen.\n\nGruß\nBernd")
    again = mail.reply(BERND, mail.last(BERND, "rejected_conflict"), "Gib Bescheid, wenn frei wird")
    assert again.reason == "wish_known"
    assert "schon gemerkt" in mail.last(BERND, "wish_noted").text_body
    assert _wishes(rt) == 1


def test_wishes_are_dropped_once_their_dates_have_begun(rt: Runtime, mail: Mailbox, clock: Clock) -> None:
    mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    _refused_and_waiting(mail)
    clock.set(clock.current.replace(year=2027, month=3, day=5))
    run_job(rt, "cleanup")
    assert _wishes(rt) == 1  # the first day may still be asked for
    clock.set(clock.current.replace(year=2027, month=3, day=6))
    run_job(rt, "cleanup")
    assert _wishes(rt) == 0


def test_a_reply_without_the_wish_words_still_takes_new_dates(rt: Runtime, mail: Mailbox) -> None:
    mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    mail.send(BERND, "Wir möchten vom 5. bis 9. März 2027 zu zweit kommen.\n\nGruß\nBernd")
    retry = mail.reply(BERND, mail.last(BERND, "rejected_conflict"), "Dann vom 10. bis 12. März 2027.")
    assert retry.reason == "submitted" and _wishes(rt) == 0
