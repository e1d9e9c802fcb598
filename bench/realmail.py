"""Real mail from real mail programs: mailbot against other projects' test data.

    .venv/bin/python bench/realmail.py [--dir DIR] [--library NAME] [--pin] [--show KIND]

Runs every fixture in the shared folder of real mail (REALMAIL_DIR, default
/work/shared/realmail; each project's folder keeps its LICENSE) through the code `serve` runs on
an inbound message — `decode`, the machine-mail check, `interpret` — and prints, per source,
how often mailbot agrees with what the source project's own tests expect:

- reply fixtures (talon, github/zapier/willdurand email_reply_parser, quotequail): the new text
  mailbot keeps equals the expected new text after whitespace is normalised. The expectations
  are in tests/realmail/replies.json (taken once from the projects' tests and parsers, then
  reviewed by hand); a signature the source project marks may be kept or removed. `lost`: some
  expected line is missing; `leaked`: quoted history, headers or a signature came through.
- machine mail (sisimai's bounces, DSNs, ARF complaints and auto-replies, flanker's bounces and
  complaints, mail's multipart/report): recognised as machine mail, with the reason.
- human mail with its real headers (talon's and sisimai's person-written mails, flanker's and
  mail's plain messages): not ignored.
- every .eml: no crash, no hang (over five seconds), no lone surrogate, U+FFFD or mojibake ("Ã¼")
  in the decoded Subject and From name.

`--library` measures a reply parser from PyPI on the same reply fixtures instead
(email_reply_parser, mail_parser_reply, quotequail). `--pin` writes every fixture's outcome to
tests/realmail/outcomes.json, which tests/unit/test_realmail.py holds mailbot to.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.config import Settings  # noqa: E402
from mailbot.understand import decode, first_text, interpret  # noqa: E402
from mailbot.understand.machine import classify, envelope_sender  # noqa: E402

REALMAIL = Path(os.environ.get("REALMAIL_DIR", "/work/shared/realmail"))
REPLIES = ROOT / "tests" / "realmail" / "replies.json"
PINNED = ROOT / "tests" / "realmail" / "outcomes.json"
TODAY = date(2026, 11, 23)
SETTINGS = Settings()
SLOW_SECONDS = 5.0  # a hang, not a slow machine

# person-written mails with their real headers: never to be ignored
HUMAN = (
    "mailgun+talon/tests/fixtures/standard_replies/",
    "mailgun+talon/tests/fixtures/reply-quotations-share-block.eml",
    "sisimai+set-of-emails/maildir/not/is-not-bounce-",
    "mailgun+flanker/tests/fixtures/messages/iphone.eml",
    "mailgun+flanker/tests/fixtures/messages/outlook-express.eml",
    "mailgun+flanker/tests/fixtures/messages/text-only.eml",
    "mailgun+flanker/tests/fixtures/messages/bilingual-simple.eml",
    "mailgun+flanker/tests/fixtures/messages/quoted-printable.eml",
    "mailgun+flanker/tests/fixtures/messages/8bitmime.eml",
    "mailgun+flanker/tests/fixtures/messages/attached-pdf.eml",
    "mikel+mail/spec/fixtures/emails/plain_emails/raw_email_reply.eml",
    "mikel+mail/spec/fixtures/emails/plain_emails/basic_email.eml",
    "mikel+mail/spec/fixtures/emails/plain_emails/raw_email_simple.eml",
    "mikel+mail/spec/fixtures/emails/rfc2822/example01.eml",
    "mikel+mail/spec/fixtures/emails/rfc2822/example02.eml",
    "mikel+mail/spec/fixtures/emails/rfc2822/example03.eml",
    "mikel+mail/spec/fixtures/emails/rfc6532/utf8_headers.eml",
    "mikel+mail/spec/fixtures/emails/multi_charset/japanese.eml",
)
# bounces, DSNs, complaints, auto-replies and read receipts
MACHINE = (
    "sisimai+set-of-emails/maildir/bsd/",
    "sisimai+set-of-emails/maildir/dos/",
    "sisimai+set-of-emails/maildir/mac/",
    "sisimai+set-of-emails/maildir/err/",
    "sisimai+set-of-emails/maildir/tmp/",
    "sisimai+set-of-emails/maildir/not/rb-issue-368-bug.eml",
    "sisimai+set-of-emails/to-be-debugged-because/",
    "mailgun+flanker/tests/fixtures/messages/bounce/",
    "mailgun+flanker/tests/fixtures/messages/complaints/",
    "mailgun+flanker/tests/fixtures/messages/disposition-notification.eml",
    "mikel+mail/spec/fixtures/emails/multipart_report_emails/",
)
_MOJIBAKE = re.compile("[\ud800-\udfff\ufffd]|Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Result:
    machine: str | None
    intent: str
    reply: str
    subject: str
    from_name: str
    seconds: float
    error: str = ""


def understand(raw: bytes) -> Result:
    """What `serve` does with an inbound message before the conversation: decode it, set
    machine mail aside, interpret the rest."""
    started = time.perf_counter()
    try:
        decoded = decode(raw)
        # the envelope sender a delivering MTA wrote down, as the pipe and IMAP keep it
        found = classify(SETTINGS, raw, decoded,
                         envelope_sender=envelope_sender(decoded.headers.get("Return-Path")))
        if found is not None:
            return Result(found.reason, "unknown", "", decoded.subject, decoded.from_name or "",
                          time.perf_counter() - started)
        seen = interpret(decoded, TODAY)
        return Result(None, seen.intent, seen.reply_text, decoded.subject,
                      decoded.from_name or "", time.perf_counter() - started)
    except Exception as exc:  # a crash is an outcome here
        return Result(None, "crash", "", "", "", time.perf_counter() - started,
                      f"{type(exc).__name__}: {exc}")


def as_mail(body: str, html: bool = False) -> bytes:
    """A reply fixture (a body only) as the message a person would send."""
    message = EmailMessage()
    message["From"] = "Anna Berger <anna@example.org>"
    message["To"] = SETTINGS.booking_address
    message["Subject"] = "Re: Haus im August"
    message["Message-ID"] = "<fixture@example.org>"
    message.set_content(body, subtype="html" if html else "plain", charset="utf-8", cte="8bit")
    return message.as_bytes()


def normal(text: str) -> str:
    return _SPACE.sub(" ", text.replace("\u00a0", " ").replace("\u200b", "")).strip()


# ------------------------------------------------------------------- reply fixtures

@dataclass(frozen=True)
class ReplyCase:
    key: str
    source: str
    raw: bytes
    body: str  # the text a reply library gets
    reply: str  # expected new text
    signature: str  # a signature the source marks: may be kept or removed
    language: str  # "de", "en" or "other": the language of the quote header / client


def reply_cases(root: Path = REALMAIL) -> list[ReplyCase]:
    table = json.loads(REPLIES.read_text("utf-8"))["cases"]
    cases = []
    pairs = json.loads((root / "mailgun+talon/talon_pairs.json").read_text("utf-8"))
    for key, want in table.items():
        source = key.split("/", 1)[0]
        if key.startswith("mailgun+talon/talon_pairs.json#"):
            body = pairs[int(key.rsplit("#", 1)[1])]["input"]
            raw = as_mail(body)
        else:
            path = root / key.split("#", 1)[0]
            data = path.read_bytes()
            html = path.suffix == ".html"
            if path.suffix == ".eml":
                raw, body = data, decode(data).text
            elif html:  # a reply library gets the text mailbot reads from it
                raw = as_mail(data.decode("utf-8", "replace"), html)
                body = decode(raw).text
            else:
                body = data.decode("utf-8", "replace")
                for placeholder, value in want.get("fill", {}).items():  # a test's template
                    body = body.replace(placeholder, value)
                raw = as_mail(body, html)
        cases.append(ReplyCase(key, source, raw, body, want["reply"],
                               want.get("signature", ""), want["language"]))
    return cases


def judge_reply(case: ReplyCase, got: str) -> str:
    """agree, lost (expected text missing) or leaked (more than the new text). The expected
    text counts as far as understanding reads a message (SPEC §5 "Bounded": 64 KB, long
    lines by their start)."""
    mine = normal(got)
    reply = first_text(case.reply)
    want = normal(reply)
    if mine in (want, normal(first_text(f"{case.reply}\n{case.signature}"))):
        return "agree"
    lines = [normal(x) for x in reply.splitlines() if normal(x)]
    if any(x not in mine for x in lines):
        return "lost"
    return "leaked"


def _libraries() -> dict[str, Callable[[ReplyCase], str]]:
    def erp(case: ReplyCase) -> str:
        from email_reply_parser import EmailReplyParser
        return str(EmailReplyParser.parse_reply(case.body))

    def mpr(case: ReplyCase) -> str:
        from mailparser_reply import EmailReplyParser
        return str(EmailReplyParser(languages=["en", "de"]).parse_reply(text=case.body))

    def quotequail(case: ReplyCase) -> str:
        import quotequail
        parts = quotequail.quote(case.body)
        return str(parts[0][1]) if parts and parts[0][0] else ""

    return {"email_reply_parser": erp, "mail_parser_reply": mpr, "quotequail": quotequail}


# ------------------------------------------------------------------- the other fixtures

def eml_files(root: Path = REALMAIL) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*.eml")):
        yield path.relative_to(root).as_posix(), path.read_bytes()


def kind_of(key: str) -> str:
    if key.startswith(HUMAN):
        return "human"
    if key.startswith(MACHINE):
        return "machine"
    return "mime"


def mojibake(result: Result) -> bool:
    return bool(_MOJIBAKE.search(result.subject) or _MOJIBAKE.search(result.from_name))


# ------------------------------------------------------------------- the run

def run(root: Path = REALMAIL, library: str | None = None) -> dict[str, dict[str, str]]:
    """Every fixture's outcome, by key: {"kind", "outcome", "machine"?, "language"?}."""
    outcomes: dict[str, dict[str, str]] = {}
    fn = _libraries()[library] if library else None
    for case in reply_cases(root):
        if fn is not None:
            got = fn(case)
            outcomes[case.key] = {"kind": "reply", "language": case.language,
                                  "outcome": judge_reply(case, got)}
            continue
        result = understand(case.raw)
        outcome = ("crash" if result.error else "ignored" if result.machine
                   else judge_reply(case, result.reply))
        outcomes[case.key] = {"kind": "reply", "language": case.language, "outcome": outcome}
    if fn is not None:
        return outcomes
    for key, raw in eml_files(root):
        result = understand(raw)
        kind = kind_of(key)
        if result.error:
            outcome = "crash"
        elif result.seconds > SLOW_SECONDS:
            outcome = "slow"
        elif mojibake(result):
            outcome = "mojibake"
        elif kind == "machine":
            outcome = "recognised" if result.machine else f"missed:{result.intent}"
        elif kind == "human":
            outcome = "ignored" if result.machine else "answered"
        else:
            outcome = "ok"
        entry = {"kind": kind, "outcome": outcome}
        if result.machine:
            entry["machine"] = result.machine
        outcomes.setdefault(key, entry)
    return outcomes


GOOD = {"agree", "recognised", "answered", "ok"}


def report(outcomes: dict[str, dict[str, str]]) -> str:
    rows = []
    by_source: dict[tuple[str, str], Counter[str]] = {}
    for key, entry in outcomes.items():
        source = key.split("/", 1)[0]
        kind = entry["kind"]
        by_source.setdefault((source, kind), Counter())[entry["outcome"].split(":")[0]] += 1
    rows.append(f"{'source':32} {'kind':8} {'files':>5} {'agree':>7}  other outcomes")
    for (source, kind), counts in sorted(by_source.items()):
        total = sum(counts.values())
        good = sum(n for o, n in counts.items() if o in GOOD)
        other = ", ".join(f"{o} {n}" for o, n in sorted(counts.items()) if o not in GOOD)
        rows.append(f"{source:32} {kind:8} {total:5} {100 * good / total:6.1f}%  {other}")
    replies = [e for e in outcomes.values() if e["kind"] == "reply"]
    de_en = [e for e in replies if e["language"] in ("de", "en")]

    def share(items: list[dict[str, str]], what: str = "agree") -> str:
        n = sum(1 for e in items if e["outcome"] == what)
        return f"{n}/{len(items)} ({100 * n / max(1, len(items)):.1f} %)"

    rows.append("")
    rows.append(f"replies, German and English clients: agree {share(de_en)}, "
                f"lost {share(de_en, 'lost')}, leaked {share(de_en, 'leaked')}")
    rows.append(f"replies, all languages: agree {share(replies)}, lost {share(replies, 'lost')}")
    machine = [e for e in outcomes.values() if e["kind"] == "machine"]
    human = [e for e in outcomes.values() if e["kind"] == "human"]
    emls = [e for e in outcomes.values() if e["kind"] != "reply"]
    if machine:
        rows.append(f"machine mail recognised: {share(machine, 'recognised')}; "
                    f"human mail answered: {share(human, 'answered')}")
        reasons = Counter(e.get("machine", "-") for e in machine)
        rows.append("machine reasons: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
        bad = Counter(e["outcome"] for e in emls if e["outcome"] in ("crash", "slow", "mojibake"))
        rows.append(f".eml files: {len(emls)}; crash {bad['crash']}, slow {bad['slow']}, "
                    f"mojibake {bad['mojibake']}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=REALMAIL)
    parser.add_argument("--library", choices=sorted(_libraries()))
    parser.add_argument("--pin", action="store_true", help="write tests/realmail/outcomes.json")
    parser.add_argument("--show", help="list the fixtures with this outcome (e.g. leaked)")
    args = parser.parse_args()
    started = time.perf_counter()
    outcomes = run(args.dir, args.library)
    print(report(outcomes))
    print(f"\n{len(outcomes)} fixtures in {time.perf_counter() - started:.1f} s")
    if args.show:
        for key, entry in outcomes.items():
            if entry["outcome"].startswith(args.show):
                print(f"  {entry['outcome']:16} {key}")
    if args.pin and not args.library:
        PINNED.write_text(json.dumps(outcomes, indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"pinned {len(outcomes)} outcomes in {PINNED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
