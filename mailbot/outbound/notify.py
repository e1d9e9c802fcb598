"""Who is told what (SPEC §4): domain events → outbox rows, one email per recipient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from mailbot.core import events as ev
from mailbot.core.model import Booking, State
from mailbot.outbound import ical, waiting
from mailbot.outbound.outbox import Mail, queue_all
from mailbot.runtime import Cause, Runtime


def _name(rt: Runtime, key: str) -> str:
    return rt.house.approver(key).name


def _self_approver(rt: Runtime, booking: Booking) -> str | None:
    """The requester's own approver address, if the requester is an approver (BR-015)."""
    approver = rt.house.approver_for_address(booking.requester_email)
    return approver.email if approver else None


class _Mails:
    """Collects (address, kind, context); an address gets at most one mail per event."""

    def __init__(self, rt: Runtime, session: Session, booking: Booking, cause: Cause) -> None:
        self.rt, self.session, self.booking, self.cause = rt, session, booking, cause
        self.told: dict[str, tuple[str, dict[str, Any]]] = {}
        self.calendar: str | None = None  # "publish" or "cancel": every mail carries the .ics

    def requester(self, kind: str, **context: Any) -> None:
        self.told.setdefault(self.booking.requester_email, (kind, context))

    def approvers(self, kind: str, skip_self: bool = False, **context: Any) -> None:
        skip = _self_approver(self.rt, self.booking) if skip_self else None
        for approver in self.rt.house.approvers:
            if approver.email != skip:
                self.told.setdefault(approver.email, (kind, context))

    def send(self, new_booking: bool) -> None:
        if self.told:
            queue_all(self.rt, self.session, [Mail(kind, address, context,
                                                   attachments=self._attachments(address))
                                              for address, (kind, context) in self.told.items()],
                      self.cause, self.booking.id, new_booking)

    def _attachments(self, address: str) -> tuple[dict[str, str], ...]:
        if self.calendar is None:
            return ()
        return (ical.invitation(self.rt, self.booking, address, canceled=self.calendar == "cancel"),)


def notify(rt: Runtime, session: Session, events: Sequence[ev.Event], cause: Cause) -> None:
    for event in events:
        mails = _Mails(rt, session, event.booking, cause)
        _plan(rt, event, mails)
        # the first mails about a booking just submitted: it has no threads yet
        mails.send(new_booking=isinstance(event, ev.Submitted))
        freed = _freed(event)
        if freed:  # someone may be waiting for these dates
            waiting.dates_freed(rt, session, *freed, cause)


def _freed(event: ev.Event) -> tuple[date, date] | None:
    """The dates an event gives back (deny, cancel, expiry, the cut-off part of a shortening)."""
    if isinstance(event, ev.Denied) or isinstance(event, ev.Canceled) and event.previous != State.DENIED:
        return event.booking.start, event.booking.end
    if isinstance(event, ev.Shortened):
        return event.old_start, event.old_end
    return None


def _plan(rt: Runtime, event: ev.Event, mails: _Mails) -> None:
    booking = event.booking
    everyone = [a.name for a in rt.house.approvers]
    if isinstance(event, ev.Submitted):
        self_name = _name(rt, event.self_approved_by) if event.self_approved_by else None
        # an approver whose mail was not authenticated confirms her request (and approval)
        # by a reply first
        confirm_own = self_name is None and _self_approver(rt, booking) is not None
        mails.requester("request_received", self_approved=self_name is not None,
                        confirm_own=confirm_own, deciders=[n for n in everyone if n != self_name])
        mails.approvers("request_submitted", skip_self=True, self_approver_name=self_name)
    elif isinstance(event, ev.Approved):
        mails.requester("booking_approved", approver_name=_name(rt, event.approver),
                        outstanding_names=[_name(rt, key) for key in event.outstanding])
    elif isinstance(event, ev.Confirmed):
        mails.calendar = "publish"
        mails.requester("booking_confirmed", approver_names=everyone)
        mails.approvers("booking_confirmed", approver_names=everyone)
    elif isinstance(event, ev.Denied):
        denier = rt.house.approver(event.approver)
        common: dict[str, Any] = dict(approver_name=denier.name, reason=event.reason,
                                      was_confirmed=event.was_confirmed)
        mails.calendar = "cancel" if event.was_confirmed else None
        mails.requester("booking_denied", denied_by_you=False, **common)
        mails.told.setdefault(denier.email, ("booking_denied", {**common, "denied_by_you": True}))
        mails.approvers("booking_denied", denied_by_you=False, **common)
    elif isinstance(event, ev.Shortened):
        mails.requester("booking_shortened", old_start=event.old_start, old_end=event.old_end)
    elif isinstance(event, ev.Extended):
        mails.approvers("booking_extended", skip_self=True, old_start=event.old_start,
                        old_end=event.old_end)
    elif isinstance(event, ev.Reopened):
        changed = (event.old_start, event.old_end) != (booking.start, booking.end)
        own = rt.house.approver_for_address(booking.requester_email)
        reopened: dict[str, Any] = dict(old_start=event.old_start, old_end=event.old_end,
                                        dates_changed=changed, note=event.note,
                                        deciders=[a.name for a in rt.house.approvers if a != own])
        mails.requester("booking_reopened", **reopened)
        mails.approvers("booking_reopened", skip_self=True, **reopened)
    elif isinstance(event, ev.Canceled):
        if event.actor != "requester":
            return  # BR-028: the nightly cleanup cancels silently
        if event.previous == State.DENIED:
            mails.requester("booking_canceled_denied")
            return
        own = rt.house.approver_for_address(booking.requester_email)
        told = [a.name for a in rt.house.approvers if a != own]
        context: dict[str, Any] = dict(reason=event.reason, was_confirmed=event.previous == State.CONFIRMED,
                       told_approvers=told)
        mails.calendar = "cancel" if event.previous == State.CONFIRMED else None
        mails.requester("booking_canceled", **context)
        mails.approvers("booking_canceled", **context)
    # DetailsChanged: decisions kept, nobody told (BR-005, BR-025)
