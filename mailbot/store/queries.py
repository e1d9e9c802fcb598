"""Reads and locks the rest of the code needs; callers pass the session of their transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal_column, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot import tokens
from mailbot.config import Approver, House
from mailbot.core.model import Booking, State, Verdict
from mailbot.store.tables import Person, RateEvent, bookings, decisions, timeline

T = TypeVar("T")
BLOCKING = (State.PENDING, State.CONFIRMED)
LINK_RECOVERY = "recovery_address"  # BR-012/BR-021 rate kind, shared by mail and web


def blocking_between(session: Session, first: date, last: date) -> ColumnElement[bool]:
    """Pending or Confirmed and overlapping first..last (inclusive). On PostgreSQL written
    as the exclusion constraint `bookings_no_overlap` is, constants included, so its GiST
    index answers instead of a scan of every booking's dates."""
    if session.get_bind().dialect.name != "postgresql":
        return and_(bookings.c.state.in_(BLOCKING), bookings.c.start_date <= last,
                    bookings.c.end_date >= first)
    closed: ColumnElement[str] = literal_column("'[]'")
    return and_(bookings.c.state.in_([literal_column(f"'{s.value}'") for s in BLOCKING]),
                func.daterange(bookings.c.start_date, bookings.c.end_date, closed)
                .op("&&")(func.daterange(first, last, closed)))


def blocking_overlaps(session: Session, start: date, end: date, exclude: int | None = None
                      ) -> Sequence[Booking]:
    if end < start:  # no range at all (the rules refuse it); PostgreSQL could not even build it
        return []
    query = select(Booking).where(blocking_between(session, start, end))
    if exclude is not None:
        query = query.where(bookings.c.id != exclude)
    return session.scalars(query.order_by(bookings.c.start_date)).all()


def booking(session: Session, booking_id: int, lock: bool = False) -> Booking | None:
    """One booking; with `lock`, its row is locked until the transaction ends (BR-024) and
    read afresh, unless this transaction already locked it. Without `lock`, a booking this
    session already holds is returned without a query."""
    if not lock:
        return session.get(Booking, booking_id)
    locked = _locked_in_this_transaction(session)
    if booking_id in locked:
        return session.get(Booking, booking_id)
    query = select(Booking).where(bookings.c.id == booking_id)
    query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(query).first()
    if found is not None and not session.in_nested_transaction():
        locked.add(booking_id)  # a lock taken in a savepoint ends with its rollback
    return found


def _locked_in_this_transaction(session: Session) -> set[int]:
    transaction = session.get_transaction()
    memo = session.info.get("locked_bookings")
    if memo is None or memo[0] is not transaction:
        memo = session.info["locked_bookings"] = (transaction, set())
    return memo[1]


def bookings_of(session: Session, email: str, ending_from: date | None = None) -> Sequence[Booking]:
    """A person's bookings, newest first; with `ending_from`, only those not over by then."""
    query = select(Booking).where(bookings.c.requester_email == email.lower())
    if ending_from is not None:
        query = query.where(bookings.c.end_date >= ending_from)
    return session.scalars(query.order_by(bookings.c.start_date.desc(), bookings.c.id.desc())).all()


Key = tuple[Any, int]  # where a page ends: (the sort value, the id) of its last row


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list that grows with the years, newest first, and where the next
    page starts (None on the last one)."""

    items: list[T]
    next: Key | None


@lru_cache(maxsize=32)
def _keyset(query: Select[Any], columns: tuple[Any, ...], after: bool) -> Select[Any]:
    """`query` (a statement built once, with bound parameters) a page at a time, ordered by
    `columns` descending; `after`: only the rows after the bound `key_<n>` values (a row
    comparison: one index range, however deep the page, no OFFSET). Built once per query
    and shape, so a page only binds its values."""
    if after:
        keys = (bindparam(f"key_{n}", type_=column.type) for n, column in enumerate(columns))
        query = query.where(tuple_(*columns) < tuple_(*keys))
    return query.order_by(*(c.desc() for c in columns)).limit(bindparam("size"))


def paged(session: Session, query: Select[Any], columns: tuple[Any, ...], key: Key | None,
          size: int, values: Mapping[str, Any]) -> Page[Card]:
    """One page of cards (`query` selects `CARD_COLUMNS`, its parameters in `values`)
    ordered by `columns` descending, after `key` (the last row of the previous page)."""
    bound = {**values, "size": size + 1, **{f"key_{n}": v for n, v in enumerate(key or ())}}
    rows = session.execute(_keyset(query, columns, key is not None), bound).all()
    following = tuple(rows[size - 1]._mapping[c] for c in columns) if len(rows) > size else None
    return Page(cards(rows[:size]), following)


@dataclass(frozen=True)
class Card:
    """What a list of bookings shows of each one (state, dates, who, how many, the
    approvers' verdicts): read as columns, not as a `Booking` with its decisions and
    timeline, so a page of them costs a few rows and no mapped objects."""

    id: int
    first_name: str
    start: date
    end: date
    party_size: int
    state: State
    expired: bool  # as `Booking.expired`: canceled by the nightly cleanup (BR-028)
    verdicts: Mapping[str, Verdict]  # by approver key; an approver not asked has none

    def verdict(self, approver: str) -> Verdict:
        return self.verdicts.get(approver, Verdict.NO_RESPONSE)

    @property
    def approved(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.verdicts.items() if v == Verdict.APPROVED)


_LAST_CANCEL_BY = (select(timeline.c.actor)
                   .where(timeline.c.booking_id == bookings.c.id, timeline.c.kind == "canceled")
                   .order_by(timeline.c.id.desc()).limit(1).correlate(bookings).scalar_subquery())
# "ingeborg:approved,cornelia:no_response": keys are [a-z0-9-], verdicts [a-z_]
_VERDICTS = (select(func.aggregate_strings(decisions.c.approver + ":" + decisions.c.verdict, ","))
             .where(decisions.c.booking_id == bookings.c.id).correlate(bookings).scalar_subquery())
CARD_COLUMNS = (bookings.c.id, bookings.c.first_name, bookings.c.start_date, bookings.c.end_date,
                bookings.c.party_size, bookings.c.state,
                and_(bookings.c.state == State.CANCELED, _LAST_CANCEL_BY == "system").label("expired"),
                _VERDICTS.label("verdicts"))


def cards(rows: Sequence[Any]) -> list[Card]:
    """Cards of rows selected as `CARD_COLUMNS` (one statement for a whole list)."""
    return [Card(r.id, r.first_name, r.start_date, r.end_date, r.party_size, State(r.state),
                 bool(r.expired), dict(_verdict(part) for part in (r.verdicts or "").split(",") if part))
            for r in rows]


def _verdict(part: str) -> tuple[str, Verdict]:
    approver, _, verdict = part.partition(":")
    return approver, Verdict(verdict)


_PERSONS = select(*CARD_COLUMNS).where(bookings.c.requester_email == bindparam("email"))
_CURRENT = (_PERSONS.where(bookings.c.end_date >= bindparam("today"), bookings.c.state.in_(BLOCKING))
            .order_by(bookings.c.start_date.desc(), bookings.c.id.desc()))
_EARLIER = _PERSONS.where(or_(bookings.c.end_date < bindparam("today"), bookings.c.state.not_in(BLOCKING)))
_BY_START = (bookings.c.start_date, bookings.c.id)


def current_bookings(session: Session, email: str, today: date) -> list[Card]:
    """A person's Pending and Confirmed bookings not over by `today`, latest start first."""
    return cards(session.execute(_CURRENT, {"email": email.lower(), "today": today}).all())


def earlier_bookings(session: Session, email: str, today: date, key: Key | None = None,
                     size: int = 20) -> Page[Card]:
    """A person's bookings that are over (past, denied or canceled), a page at a time,
    latest start first; the others are `current_bookings`."""
    return paged(session, _EARLIER, _BY_START, key, size, {"email": email.lower(), "today": today})


def person(session: Session, email: str, now: datetime, first_name: str | None = None,
           rename: bool = True) -> Person:
    """The person behind an address, created on first contact (their link id never changes);
    a known person's first name changes only with `rename`."""
    email = email.strip().lower()
    found = session.scalars(select(Person).where(Person.email == email)).first()
    if found is None:
        # two transactions may meet the same new address (the approvers' rows on a fresh
        # database, with several workers): the loser waits for the winner and reads its row
        dialect = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
        made = session.scalars(
            dialect(Person).values(email=email, link_id=tokens.new_id(), first_name=first_name,
                                   created_at=now)
            .on_conflict_do_nothing(index_elements=["email"]).returning(Person)).first()
        found = made or session.scalars(select(Person).where(Person.email == email)).one()
    elif first_name and rename and found.first_name != first_name:
        found.first_name = first_name
    return found


_BY_LINK = select(Person).where(Person.link_id == bindparam("link_id"))


def person_by_link(session: Session, link_id: str) -> Person | None:
    return session.scalars(_BY_LINK, {"link_id": link_id}).first()


def approver_link_id(session: Session, approver: Approver, now: datetime) -> str:
    """The random id an approver's link signs: that of the `people` row of their address."""
    return person(session, approver.email, now).link_id


def approver_by_link(session: Session, house: House, link_id: str) -> Approver | None:
    found = person_by_link(session, link_id)
    return house.approver_for_address(found.email) if found is not None else None


def count_recent(session: Session, kind: str, subject: str, since: datetime) -> int:
    query = select(func.count()).select_from(RateEvent).where(
        RateEvent.kind == kind, RateEvent.subject == subject, RateEvent.at >= since
    )
    return int(session.scalar(query) or 0)


def last_recent(session: Session, kind: str, subject: str) -> datetime | None:
    query = select(func.max(RateEvent.at)).where(RateEvent.kind == kind, RateEvent.subject == subject)
    return session.scalar(query)


def count_use(session: Session, kind: str, subject: str, at: datetime) -> None:
    session.add(RateEvent(kind=kind, subject=subject, at=at))
