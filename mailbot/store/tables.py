"""The schema. Domain classes from `core` are mapped imperatively, so `core` never
imports SQLAlchemy; the mail tables are plain store classes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, registry, relationship

from mailbot.core.model import Booking, Decision, State, TimelineEvent, Verdict

mapper_registry = registry()
metadata = mapper_registry.metadata


def _enum(kind: type) -> Enum:
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("requester_email", String(320), nullable=False),
    Column("first_name", String(80), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("party_size", Integer, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("state", _enum(State), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_activity_at", UTCDateTime(), nullable=False),
    Column("archived_at", UTCDateTime()),
    Column("decision_round", Integer, nullable=False, default=1, server_default="1"),
    Index("ix_bookings_range", "start_date", "end_date"),
    # a person's bookings, newest first; the approver's history, newest activity first
    Index("ix_bookings_requester", "requester_email", "start_date", "id"),
    Index("ix_bookings_activity", "last_activity_at", "id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("booking_id", ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
    Column("approver", String(80), nullable=False),
    Column("verdict", _enum(Verdict), nullable=False),
    Column("decided_at", UTCDateTime()),
    Column("reason", Text),
    UniqueConstraint("booking_id", "approver"),
    Index("ix_decisions_approver", "approver", "verdict", "booking_id"),
)

timeline = Table(
    "timeline_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("booking_id", ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("old_start", Date),
    Column("old_end", Date),
    Column("new_start", Date),
    Column("new_end", Date),
    Column("note", Text),
    Index("ix_timeline_events_actor", "actor", "booking_id"),
)

mapper_registry.map_imperatively(Decision, decisions)
mapper_registry.map_imperatively(TimelineEvent, timeline)
mapper_registry.map_imperatively(
    Booking,
    bookings,
    properties={
        "start": bookings.c.start_date,
        "end": bookings.c.end_date,
        "decisions": relationship(Decision, cascade="all, delete-orphan", lazy="selectin",
                                  order_by=decisions.c.id),
        "timeline": relationship(TimelineEvent, cascade="all, delete-orphan", lazy="selectin",
                                 order_by=timeline.c.id),
    },
)


Model: Any = mapper_registry.generate_base()


class InboxMessage(Model):
    """Every message that reached us, stored raw before anything else happens."""

    __tablename__ = "inbox_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # smtp, imap, pipe
    source_id: Mapped[str] = mapped_column(String(200))  # unique per source
    message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    from_address: Mapped[str | None] = mapped_column(String(320))  # lower-cased
    subject: Mapped[str | None] = mapped_column(Text)
    # SMTP: MAIL FROM ("" for the null sender <>), the connecting address and its HELO name;
    # IMAP and pipe: the Return-Path header (no peer)
    envelope_sender: Mapped[str | None] = mapped_column(String(320))
    peer_address: Mapped[str | None] = mapped_column(String(64))
    helo_name: Mapped[str | None] = mapped_column(String(255))
    # SPF, DKIM and DMARC as our SMTP server found them (an Authentication-Results value)
    authentication_results: Mapped[str | None] = mapped_column(Text)
    # the From address is the sender's (SPEC §5 "Authentic"); set when the message is handled
    authenticated: Mapped[bool] = mapped_column(Boolean, default=False)
    # received → processed | ignored | rejected | failed
    state: Mapped[str] = mapped_column(String(20), default="received")
    reason: Mapped[str | None] = mapped_column(String(80))  # named reason (why ignored/rejected)
    detail: Mapped[str | None] = mapped_column(Text)  # human-readable story for the admin
    interpretation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reply_text: Mapped[str | None] = mapped_column(Text)
    removed_text: Mapped[str | None] = mapped_column(Text)
    booking_id: Mapped[int | None] = mapped_column(Integer, index=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    correlation_id: Mapped[str] = mapped_column(String(40), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # starts, counted before each
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # started, being handled
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the mail log pages newest first by (time, id): alone, by address and by state
    __table_args__ = (UniqueConstraint("source", "source_id"),
                      Index("ix_inbox_messages_log", "received_at", "id"),
                      Index("ix_inbox_messages_address_log", "from_address", "received_at", "id"),
                      Index("ix_inbox_messages_state_log", "state", "received_at", "id"))


class OutboxMessage(Model):
    """A rendered email, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    correlation_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(60))  # template name
    to_address: Mapped[str] = mapped_column(String(320))  # lower-cased
    reply_to: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # [{"filename", "content_type", "content"}]: text files (the .ics of a confirmation)
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # queued → sent | retrying → failed; bounced after sent
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # the instance sending it now
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booking_id: Mapped[int | None] = mapped_column(Integer, index=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    inbox_id: Mapped[int | None] = mapped_column(Integer, index=True)
    __table_args__ = (Index("ix_outbox_messages_log", "created_at", "id"),
                      Index("ix_outbox_messages_address_log", "to_address", "created_at", "id"),
                      Index("ix_outbox_messages_state_log", "state", "created_at", "id"))


class Conversation(Model):
    """One person's thread about one booking (or a request still being completed).

    The Reply-To address carries `key` (signed); `awaiting` says what we asked and
    `draft` holds what is known so far."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    participant: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(20))  # requester, approver, other
    approver: Mapped[str | None] = mapped_column(String(80))
    booking_id: Mapped[int | None] = mapped_column(Integer)
    awaiting: Mapped[str | None] = mapped_column(String(40))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a booking's threads: four rows, not an approver's thousands
    __table_args__ = (Index("ix_conversations_booking", "booking_id", "participant"),)


class Person(Model):
    """Someone who wrote to us; `link_id` is the signed part of their personal link."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    link_id: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RateEvent(Model):
    """One counted use of a limited thing (BR-012, BR-021, one help answer a day)."""

    __tablename__ = "rate_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(400))  # address, IP, or address+kind
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_rate_events_lookup", "kind", "subject", "at"),)


class AdminSession(Model):
    """One admin login; the cookie holds a random secret, this row only its SHA-256."""

    __tablename__ = "admin_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64))  # of the ADMIN_TOKEN it was opened with
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class MailCount(Model):
    """Counters the database keeps as mail comes and goes (triggers of store/counters.py), so
    `/metrics` sums a few dozen rows instead of counting the mail tables. `shard` spreads
    concurrent writers over rows (PostgreSQL: the backend's pid)."""

    __tablename__ = "mail_counts"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(40), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class WaitingWish(Model):
    """"Sag Bescheid, wenn frei wird": someone refused for a conflict waits for these dates.
    One per person and range; told once when the range is free, dropped once it has passed."""

    __tablename__ = "waiting_wishes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    conversation_id: Mapped[int | None] = mapped_column(Integer)  # the thread the news goes to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("address", "start_date", "end_date"),
                      Index("ix_waiting_wishes_range", "start_date", "end_date"))


class JobRun(Model):
    """A scheduled run claimed by one instance: the unique key makes it happen once."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    instance: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(Text)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    __table_args__ = (UniqueConstraint("name", "scheduled_for"),)


