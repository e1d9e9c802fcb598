"""Drill: 200 concurrent replies for one booking.

One request is sent and processed; the three approvers' `request_submitted` mails (as the
service wrote them to its Maildir) give the real reply addresses. Then 200 replies — each
from one of the three approvers, to their own reply address, JA or "NEIN, weil …" mixed —
arrive over 200 SMTP sessions at once. Per round:
- exactly one outcome: the booking is Confirmed (all three approved) or Denied (one deny),
  and its timeline holds exactly one `confirmed` or one `denied` event, never both;
- the notifications match it: the outcome mail once to each of the four people, never the
  other one; "approved, not final" only for approvals that were not the last;
- everyone else was told "Schon erledigt": every other reply is recorded as `already_done`,
  and each approver who sent one got one "Schon erledigt" answer for the booking (loop
  safety allows one per sender, booking and day).

Several rounds with different JA shares, so both outcomes are exercised.

    .venv/bin/python -m bench.drills.one_booking_storm --db postgres --replies 200
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lib  # noqa: E402

OUTCOME_KINDS = {"confirmed": "booking_confirmed", "denied": "booking_denied"}


def one_round(checks: lib.Checks, service: lib.Service, db: lib.Db, slots: lib.Slots, n: int,
              replies: int, ja_share: float, rng: random.Random, timeout: float) -> None:
    request = lib.request_mail(500 + n, *slots.next(), rng=rng)
    before = db.scalar("SELECT count(*) FROM inbox_messages") or 0
    sent = lib.send(service.smtp_port, [request])
    db.settle(before + 1, timeout, outbox=True)
    row = lib.inbox_by_correlation(db).get(sent[0].queued_as or "")
    if row is None or row.booking_id is None:
        checks.check(False, f"round {n}: the request made a booking", str(row and row.reason))
        return
    checks.check(True, f"round {n}: the request made a booking", str(row.reason))
    booking_id = row.booking_id
    asks = [m for m in lib.read_sent(service, {"request_submitted"})
            if m.correlation == row.correlation_id]
    checks.check(len(asks) == 3, f"round {n}: three approvers were asked", f"{len(asks)} mails")
    storm = []
    for k in range(replies):
        mail = asks[k % len(asks)]
        if rng.random() < ja_share:
            storm.append(lib.approver_reply(mail, "JA", rng=rng))
        else:
            storm.append(lib.approver_reply(mail, "NEIN", "weil wir selbst im Haus sind", rng))
    rng.shuffle(storm)
    said = Counter(m.kind for m in storm)
    started = time.time()
    deliveries = lib.send(service.smtp_port, storm, concurrency=len(storm), time_limit=timeout)
    checks.check(all(d.accepted for d in deliveries), f"round {n}: all {len(storm)} replies accepted",
                 f"{sum(d.accepted for d in deliveries)} accepted")
    settled = db.settle(before + 1 + len(storm), timeout, outbox=True)
    checks.note(f"round {n}: {dict(said)} (JA share {ja_share}); settled in {time.time() - started:.1f} s")
    checks.check(settled, f"round {n}: inbox and outbox settled")

    state = db.scalar("SELECT state FROM bookings WHERE id = :b", b=booking_id)
    events = Counter(kind for (kind,) in db.rows(
        "SELECT kind FROM timeline_events WHERE booking_id = :b", b=booking_id))
    outcomes = events.get("confirmed", 0) + events.get("denied", 0)
    checks.check(state in OUTCOME_KINDS and outcomes == 1,
                 f"round {n}: exactly one outcome", f"state {state}, timeline {dict(events)}")
    verdicts = Counter(v for (v,) in db.rows("SELECT verdict FROM decisions WHERE booking_id = :b",
                                             b=booking_id))
    if state == "confirmed":
        checks.check(verdicts.get("approved") == 3, f"round {n}: Confirmed with three approvals",
                     str(dict(verdicts)))
    else:
        checks.check(verdicts.get("denied") == 1, f"round {n}: Denied by exactly one approver",
                     str(dict(verdicts)))

    mails = db.rows("SELECT kind, to_address FROM outbox_messages WHERE booking_id = :b", b=booking_id)
    by_kind = Counter(kind for kind, _ in mails)
    recipients = Counter((kind, to) for kind, to in mails)
    people = {m.to for m in asks} | {request.mail_from.lower()}
    expected = OUTCOME_KINDS.get(state or "", "")
    other = [k for k in OUTCOME_KINDS.values() if k != expected]
    got = {to for (kind, to), c in recipients.items() if kind == expected and c == 1}
    checks.check(got == people and by_kind.get(expected, 0) == len(people),
                 f"round {n}: the outcome mail went once to each of the four",
                 f"{by_kind.get(expected, 0)} × {expected} to {len(got)} of {len(people)}")
    checks.check(all(by_kind.get(k, 0) == 0 for k in other), f"round {n}: no contradicting outcome mail",
                 str(dict(by_kind)))
    # an approver may approve and later deny while Pending: count the timeline, not decisions
    approvals = events.get("approved", 0)
    interim = approvals - events.get("confirmed", 0)
    checks.check(by_kind.get("booking_approved", 0) == interim,
                 f"round {n}: 'approved, not final' once per approval that was not the last",
                 f"{by_kind.get('booking_approved', 0)} for {interim}")

    storm_ids = {m.message_id for m in storm}
    rows = [r for r in db.inbox() if r.message_id in storm_ids]
    reasons = Counter(r.reason for r in rows)
    checks.note(f"round {n}: replies recorded as {dict(reasons)}")
    acted = reasons.get("approved", 0) + reasons.get("denied", 0)
    asked = reasons.get("asked_deny_confirm", 0)  # BR-004: a NEIN on a Confirmed booking asks first
    checks.check(acted == approvals + events.get("denied", 0) and
                 reasons.get("already_done", 0) == len(storm) - acted - asked,
                 f"round {n}: every reply that changed nothing is recorded as already_done",
                 f"{acted} acted, {asked} asked to confirm a deny, "
                 f"{reasons.get('already_done', 0)} already_done of {len(storm)}")
    late = {r.correlation_id for r in rows if r.reason == "already_done"}
    late_senders = {m.to for m in asks}  # every approver sent dozens: each had a late one
    told = Counter(to for kind, to in mails if kind == "already_done")
    checks.check(set(told) == late_senders and all(c == 1 for c in told.values()),
                 f"round {n}: each approver got one 'Schon erledigt' for the booking",
                 f"{dict(told)} ({len(late)} late replies)")
    subjects = {s for (s,) in db.rows("SELECT subject FROM outbox_messages WHERE booking_id = :b "
                                      "AND kind = 'already_done'", b=booking_id)}
    checks.check(all(s.startswith("Schon erledigt") for s in subjects),
                 f"round {n}: those answers say 'Schon erledigt'", str(sorted(subjects)[:2]))


def run(kind: str, replies: int, shares: list[float], seed: int, timeout: float, keep: bool) -> int:
    checks = lib.Checks(f"one-booking storm on {kind}: {replies} concurrent replies, "
                        f"{len(shares)} rounds")
    rng = random.Random(seed)
    with lib.served(kind, f"storm-{kind}", keep=keep) as (service, db):
        slots = lib.Slots()
        for n, share in enumerate(shares, 1):
            one_round(checks, service, db, slots, n, replies, share, rng, timeout)
        errors = [line for line in service.log_lines() if str(line.get("level", "")).lower() == "error"]
        checks.check(not errors, "no error in the service log",
                     f"{len(errors)}: {[e.get('message') for e in errors[:3]]}")
    return checks.exit_code()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgres", choices=("sqlite", "postgres"))
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--shares", default="0.5,0.97,0.8", help="JA share per round")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()
    shares = [float(s) for s in args.shares.split(",") if s.strip()]
    return run(args.db, args.replies, shares, args.seed, args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
