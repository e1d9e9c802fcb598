"""Every mail the service can send, rendered from one scripted conversation into docs/mails.md,
so the whole German copy can be read in one place.

    .venv/bin/python -m scripts.mail_gallery           # writes docs/mails.md
    .venv/bin/python -m scripts.mail_gallery --check   # exit 1 when docs/mails.md is stale

The script runs the real inbox worker on a fresh SQLite database with a fixed clock: people
write mails, the service answers, and each answer is written down in the order it was queued
(subject and plain text; signed tokens in links are shortened to "…"). The few answers the
script does not play through are rendered last, from the rule values that cause them.
"""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from sqlalchemy import select

from mailbot.config import Settings, load_house
from mailbot.conversation import answers
from mailbot.core import rejections as rj
from mailbot.core.model import Booking, State
from mailbot.inbound import inbox, worker
from mailbot.jobs import run_job
from mailbot.outbound import outbox
from mailbot.runtime import Cause, Runtime
from mailbot.store.db import Store, migrate
from mailbot.store.tables import OutboxMessage

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "mails.md"
START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Betzenstein

ANNA, BERND, CARLA, DORA = ("anna@example.org", "bernd@example.org", "carla@example.org",
                            "dora@example.org")
FRIEDA, GUSTAV = "frieda@example.org", "gustav@example.org"
INGE, CONNY, GELI = "ingeborg@example.org", "cornelia@example.org", "angelika@example.org"
_TOKEN = re.compile(r"(/(?:p|a|kalender)/)[a-z2-7]+\.[a-z2-7]+")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Script:
    """The people of the scripted conversation, writing to one runtime."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.count = 0
        self.notes: dict[int, str] = {}  # outbox id → what caused it

    def send(self, sender: str, body: str, reply_to: OutboxMessage | None = None,
             subject: str = "Haus") -> None:
        self.count += 1
        message = EmailMessage()
        name = sender.split("@")[0].capitalize()
        message["From"] = formataddr((name, sender))
        message["To"] = reply_to.reply_to if reply_to else self.rt.settings.booking_address
        message["Subject"] = f"Re: {reply_to.subject}" if reply_to else subject
        message["Date"] = format_datetime(self.rt.now())
        message["Message-ID"] = f"<gallery{self.count}@example.org>"
        if reply_to is not None:
            message["In-Reply-To"] = message["References"] = reply_to.message_id
        message.set_content(body)
        before = self.last_id()
        inbox.store_raw(self.rt, message.as_bytes(), "pipe")
        worker.process_pending(self.rt)
        said = " ".join(body.split())
        for row in self.rows(after=before):
            self.notes[row.id] = (f"{name} schreibt{' als Antwort' if reply_to else ''}: "
                                  f"„{said}“")

    def rows(self, after: int = 0) -> list[OutboxMessage]:
        with self.rt.store.reading() as session:
            return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id > after)
                                        .order_by(OutboxMessage.id)))

    def last_id(self) -> int:
        rows = self.rows()
        return rows[-1].id if rows else 0

    def last(self, to: str, kind: str) -> OutboxMessage:
        return [m for m in self.rows() if m.to_address == to and m.kind == kind][-1]


def conversation(s: Script, clock: Clock) -> None:
    # Anna asks; one approver says yes (twice); Anna stays longer; an old JA does not count
    s.send(ANNA, "Hallo,\nwir würden gern vom 3. bis 7. August zu viert kommen. "
                 "Wir bringen den Hund mit.\n\nLiebe Grüße\nAnna")
    s.send(INGE, "JA", s.last(INGE, "request_submitted"))
    s.send(INGE, "Ja, passt!", s.last(INGE, "request_submitted"))
    s.send(ANNA, "Wir bleiben doch bis zum 9.8.", s.last(ANNA, "request_received"))
    s.send(CONNY, "JA", s.last(CONNY, "request_submitted"))
    s.send(CONNY, "JA? Nein, lieber nicht.", s.last(CONNY, "booking_extended"))
    s.send(CONNY, "Ja.", s.last(CONNY, "question_unclear"))
    s.send(INGE, "JA", s.last(INGE, "booking_extended"))
    s.send(GELI, "JA", s.last(GELI, "booking_extended"))
    # Bernd runs into Anna, then books other days, twice; Angelika says no; he reopens
    s.send(BERND, "Wir möchten vom 5. bis 8. August zu zweit kommen.\n\nGruß Bernd")
    s.send(BERND, "Dann vom 20. bis 23. August.", s.last(BERND, "rejected_conflict"))
    s.send(BERND, "Wir möchten vom 20. bis 23. August zu zweit kommen.\n\nGruß Bernd")
    s.send(GELI, "NEIN", s.last(GELI, "request_submitted"))
    s.send(GELI, "Da sind wir selbst im Haus.", s.last(GELI, "question_reason"))
    s.send(BERND, "Bitte wieder öffnen, wir haben das mit Angelika geklärt.",
           s.last(BERND, "booking_denied"))
    s.send(BERND, "Wir kommen doch erst ab dem 21.8.", s.last(BERND, "booking_reopened"))
    s.send(BERND, "Wie ist denn der Stand jetzt?", s.last(BERND, "booking_shortened"))
    s.send(INGE, "Bitte stornieren.", s.last(INGE, "booking_reopened"))
    s.send("ingeborg.privat@example.net", "JA", s.last(INGE, "booking_reopened"))
    s.send(INGE, "NEIN, weil da die Fenster gestrichen werden.", s.last(INGE, "booking_reopened"))
    s.send(BERND, "Dann stornieren wir.", s.last(BERND, "booking_denied"))
    # Carla is vague, then exact; she wants to change something, then has two stays
    s.send(CARLA, "Hallo,\nwir würden gern Mitte Juli kommen.\n\nCarla")
    s.send(CARLA, "Vom 12. bis 15. Juli, zu dritt.", s.last(CARLA, "question_missing"))
    s.send(CARLA, "Ich möchte etwas ändern.", s.last(CARLA, "request_received"))
    s.send(CARLA, "Wir kommen doch erst ab dem 20.7.", s.last(CARLA, "question_edit"))
    s.send(CARLA, "Wir möchten auch vom 1. bis 3. Oktober zu dritt kommen.\n\nCarla")
    s.send(CARLA, "Bitte storniert meine Buchung.\n\nCarla")
    s.send(CARLA, "Nein, doch nicht.", s.last(CARLA, "question_which_booking"))
    s.send(CARLA, "Ich möchte meine Buchung ändern.\n\nCarla")
    # Dora wants long, then not; asks for many; asks with a guess
    s.send(DORA, "Wir möchten vom 1. bis 20. September zu zweit kommen.\n\nDora")
    s.send(DORA, "NEIN, dann doch nicht.", s.last(DORA, "question_long_stay"))
    s.send(DORA, "Wir möchten vom 10. bis 12. Oktober mit 12 Personen kommen.\n\nDora")
    s.send(DORA, "Wir möchten vom 5. bis 8. November mit so 6-8 Leuten kommen.\n\nDora")
    s.send(DORA, "Wir möchten vom 3. bis 6. Oktober 2028 zu zweit kommen.\n\nDora")
    s.send(DORA, "Wir möchten vom 10. bis 12. Februar 2027 zu zweit kommen.\n\nDora")
    # Frieda wants Anna's days and asks to be told when they are free
    s.send(FRIEDA, "Wir möchten vom 4. bis 6. August zu zweit kommen.\n\nFrieda")
    s.send(FRIEDA, "Sag Bescheid, wenn frei wird.", s.last(FRIEDA, "rejected_conflict"))
    # strangers: a lost link, a chat, a cancel without a booking
    s.send("emil@example.org", "Hallo, ich finde meinen Link nicht mehr.\n\nEmil")
    s.send("emil@example.org", "Hallo, wie geht's euch so?\n\nEmil")
    s.send("emil@example.org", "Bitte storniert meine Buchung.\n\nEmil")
    # Anna's confirmed stay: no change, thanks, then called off after asking twice
    s.send(ANNA, "Super, danke dir!", s.last(ANNA, "booking_confirmed"))
    s.send(ANNA, "Wir sind doch zu fünft.", s.last(ANNA, "booking_confirmed"))
    s.send(ANNA, "Bitte stornieren.", s.last(ANNA, "booking_confirmed"))
    s.send(ANNA, "Wir sind krank.", s.last(ANNA, "question_reason"))
    s.send(ANNA, "Nein, doch nicht.", s.last(ANNA, "question_confirm"))
    s.send(ANNA, "Stornieren, weil wir krank sind.", s.last(ANNA, "booking_confirmed"))
    s.send(ANNA, "JA", s.last(ANNA, "question_confirm"))
    # a week later: the Sunday reminder
    clock.now = START + timedelta(days=6, hours=1)
    before = s.last_id()
    run_job(s.rt, "digest", clock.now)
    for row in s.rows(after=before):
        s.notes[row.id] = "Die wöchentliche Erinnerung (Sonntag, 09:00)"
    # Gustav changes his days with a weekday the service is not sure of; his JA makes it so
    s.send(GUSTAV, "Wir möchten vom 10. bis 14. Mai zu zweit kommen.\n\nGustav")
    s.send(GUSTAV, "Wir kommen erst am 11. Mai, am Freitag muss Paul noch arbeiten.",
           s.last(GUSTAV, "request_received"))
    s.send(GUSTAV, "JA", s.last(GUSTAV, "question_check"))


def unreachable(rt: Runtime) -> None:
    """Answers the script does not play through, rendered from the values that cause them."""
    past = Booking(ANNA, "Anna", START.date() - timedelta(days=9), START.date() - timedelta(days=5),
                   4, state=State.CONFIRMED, id=1)
    with rt.store.transaction() as session:
        for rejection in (rj.BookingInPast(past), rj.ReasonRequired(past, "deny")):
            kind, context = answers.for_rejection(rt, rejection)
            outbox.queue(rt, session, kind, ANNA, {"retry": None, "requested_start": None,
                                                   "requested_end": None, "free": [], **context},
                         Cause.new())
        outbox.queue(rt, session, "rate_limited", DORA,
                     {"limit": rt.house.limits.requests_per_day, "retry": None,
                      "requested_start": None, "requested_end": None}, Cause.new())


def _who(rt: Runtime, address: str) -> str:
    approver = rt.house.approver_for_address(address)
    return approver.name if approver else address.split("@")[0].capitalize()


def build() -> str:
    with tempfile.TemporaryDirectory() as home:
        url = f"sqlite:///{home}/gallery.sqlite3"
        migrate(url)
        settings = Settings(database_url=url, maildir=f"{home}/outbox",
                            rules_file=str(ROOT / "rules" / "house.toml"),
                            secret_key="gallery-" + "k" * 40, admin_token="gallery-admin",
                            base_url="https://buchung.example")
        clock = Clock()
        rt = Runtime(settings, load_house(settings.rules_file), Store(url), clock)
        script = Script(rt)
        conversation(script, clock)
        scripted = script.last_id()
        unreachable(rt)
        rows = script.rows()
        rt.store.dispose()
    lines = ["# Every mail mailbot sends",
             "",
             "Generated by `python -m scripts.mail_gallery` from one scripted conversation "
             "(fixed clock: Monday, 1 March 2027); do not edit by hand — "
             "`tests/integration/test_mail_gallery.py` fails when this file is stale. "
             "Signed tokens in links are shortened to „…“.",
             "",
             "Kinds: " + ", ".join(f"`{k}`" for k in sorted({r.kind for r in rows})) + ".",
             ""]
    cause = None
    for number, row in enumerate(rows, 1):
        if row.id > scripted and cause != "unreachable":
            cause = "unreachable"
            lines += ["## Answers the script does not play through", "",
                      "Rendered from the rule values that cause them: a past booking (the clock "
                      "would have to jump), a deny without reason (by mail a reason is asked "
                      "for instead), the daily limit of new requests.", ""]
        note = script.notes.get(row.id)
        if note and note != cause:
            cause = note
            lines += [f"## {note}", ""]
        text = _TOKEN.sub(r"\1…", row.text_body).rstrip()
        lines += [f"### {number}. `{row.kind}` an {_who(rt, row.to_address)}", "",
                  f"**{row.subject}**", "", "```text", text, "```", ""]
    return "\n".join(lines)


def main() -> int:
    page = build()
    if "--check" in sys.argv:
        if TARGET.read_text(encoding="utf-8") != page:
            print("docs/mails.md is stale: run python -m scripts.mail_gallery", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(page, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
