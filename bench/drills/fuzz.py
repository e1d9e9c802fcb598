"""Drill: 10,000 malformed and hostile messages against `mailbot serve`.

A seeded generator (reproducible with --seed) mixes: broken MIME, wrong and unknown
charsets, 5 MB lines, header injection, deeply nested multiparts, zip-bomb-like
attachments, huge recipient lists, endless quoting, raw garbage and odd Unicode. They go in
over SMTP; what the SMTP edge refuses for its own reasons (a 5 MB line is "500 Line too
long") goes in again through `mailbot ingest`, the way an MTA pipe would deliver it. Then:
- no hang: every SMTP transaction got an answer, and the inbox settles in bounded time;
- no crash: the same service process ran throughout, and no message ended `failed`;
- each message is recorded with a reason: a refusal by its SMTP answer, everything stored by
  the reason on its inbox row;
- memory stays bounded (RSS sampled every half second, against --rss-limit);
- nothing injected reaches the outbox (no CR/LF in any header, no mail to an address the
  attacker smuggled in).

    .venv/bin/python -m bench.drills.fuzz --count 10000 --seed 1
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import random
import re
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lib  # noqa: E402

TO = lib.BOOKING_ADDRESS
VICTIM = "victim@evil.example"
CRLF = "\r\n"
Generator = Callable[[random.Random, int], lib.Outgoing]


def _sender(n: int) -> str:
    return f"fuzz.{n}@{lib.SENDER_DOMAIN}"


def _headers(rng: random.Random, n: int, extra: str = "", subject: str | None = None,
             message_id: bool = True) -> str:
    lines = [f"From: Fuzz {n} <{_sender(n)}>", f"To: {TO}",
             f"Subject: {subject if subject is not None else 'Anfrage ' + str(n)}",
             "Date: Mon, 23 Nov 2026 10:00:00 +0100"]
    if message_id:
        lines.append(f"Message-ID: <fuzz-{n}-{rng.getrandbits(32):x}@{lib.SENDER_DOMAIN}>")
    return CRLF.join(lines) + CRLF + extra


def _out(raw: str | bytes, n: int, kind: str, rcpts: list[str] | None = None) -> lib.Outgoing:
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    found = re.search(rb"Message-ID: (<[^>\r\n]*>)", data[:4000])
    return lib.Outgoing(_sender(n), rcpts or [TO], data,
                        found.group(1).decode("latin-1") if found else None, kind)


def _request_text(rng: random.Random) -> str:
    return rng.choice(("wir möchten vom 3. bis 6. August 2027 mit 4 Personen kommen.",
                       "Geht das Haus Ostern? Wir sind zu fünft.", "JA", "NEIN, weil",
                       "wie ist der Stand?", "", "Hallo"))


def broken_mime(rng: random.Random, n: int) -> lib.Outgoing:
    boundary = f"b{n}"
    variant = rng.randrange(6)
    body = _request_text(rng)
    if variant == 0:  # boundary declared, never used
        raw = _headers(rng, n, f'MIME-Version: 1.0{CRLF}Content-Type: multipart/mixed; boundary="{boundary}"'
                       f"{CRLF}{CRLF}{body}{CRLF}")
    elif variant == 1:  # never closed
        raw = _headers(rng, n, f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'
                       f"--{boundary}{CRLF}Content-Type: text/plain{CRLF}{CRLF}{body}{CRLF}")
    elif variant == 2:  # invalid base64
        raw = _headers(rng, n, f"Content-Type: text/plain; charset=utf-8{CRLF}"
                       f"Content-Transfer-Encoding: base64{CRLF}{CRLF}!!!{body}***==={CRLF}")
    elif variant == 3:  # unknown transfer encoding, broken quoted-printable
        raw = _headers(rng, n, f"Content-Type: text/plain{CRLF}Content-Transfer-Encoding: "
                       f"{rng.choice(['x-uuencode', 'quoted-printable', '8bit7bit'])}{CRLF}{CRLF}"
                       f"=ZZ=4{body}=\u00e4={CRLF}")
    elif variant == 4:  # no boundary parameter at all
        raw = _headers(rng, n, f"Content-Type: multipart/mixed{CRLF}{CRLF}"
                       f"--x{CRLF}{CRLF}{body}{CRLF}--x--{CRLF}")
    else:  # headers only, no body separator
        raw = _headers(rng, n, f"Content-Type: text/plain; charset={CRLF}")
    return _out(raw, n, "broken_mime")


def wrong_charset(rng: random.Random, n: int) -> lib.Outgoing:
    text = "Wir möchten vom 3. bis 6. August 2027 kommen, Grüße Jürgen"
    variant = rng.randrange(5)
    if variant == 0:  # says utf-8, is latin-1
        head = _headers(rng, n, f"Content-Type: text/plain; charset=utf-8{CRLF}{CRLF}")
        return _out(head.encode() + text.encode("latin-1") + b"\r\n", n, "wrong_charset")
    if variant == 1:  # unknown charset
        head = _headers(rng, n, f"Content-Type: text/plain; charset=x-unknown-{n}{CRLF}{CRLF}")
        return _out(head.encode() + text.encode("utf-16") + b"\r\n", n, "wrong_charset")
    if variant == 2:  # utf-7 and broken encoded words in headers
        subject = f"=?x-bogus?Q?Anfr=C3=A4ge?= =?utf-8?B?{'%%%'}?= =?utf-8?Q?{'=' * 40}?="
        head = _headers(rng, n, f"Content-Type: text/plain; charset=utf-7{CRLF}{CRLF}", subject=subject)
        return _out(head + "+AOQ-+AP8-broken+-" + CRLF, n, "wrong_charset")
    if variant == 3:  # raw 8-bit bytes in headers
        head = (f"From: J\xfcrgen \xff\xfe <{_sender(n)}>{CRLF}To: {TO}{CRLF}"
                f"Subject: Gr\xfc\xdfe \x00 {n}{CRLF}Message-ID: <fuzz-{n}@x>{CRLF}{CRLF}")
        return _out(head.encode("latin-1") + text.encode("cp1252") + b"\r\n", n, "wrong_charset")
    head = _headers(rng, n, f"Content-Type: text/html; charset=shift_jis{CRLF}{CRLF}")
    return _out(head.encode() + "<p>日本語 ".encode() + bytes(rng.randrange(256) for _ in range(300))
                + b"\r\n", n, "wrong_charset")


def long_line(rng: random.Random, n: int, size: int = 5 * 1024 * 1024) -> lib.Outgoing:
    variant = rng.randrange(3)
    if variant == 0:  # one enormous body line
        filler = "A" * size
    elif variant == 1:  # one enormous line of words, with dates in it
        words = ("vom 3. bis 6. August 2027 ", "4 Personen ", "NEIN weil ", "ja ")
        filler = "".join(rng.choice(words) for _ in range(size // 12))[:size]
    else:  # an enormous header line
        raw = _headers(rng, n, f"X-Long: {'x' * size}{CRLF}{CRLF}Hallo{CRLF}")
        return _out(raw, n, "long_line")
    return _out(_headers(rng, n, CRLF) + filler + CRLF, n, "long_line")


def header_injection(rng: random.Random, n: int) -> lib.Outgoing:
    variant = rng.randrange(6)
    body = "wir möchten vom 3. bis 6. August 2027 mit 4 Personen kommen." + CRLF
    injected = base64.b64encode(f"Hallo\r\nBcc: {VICTIM}\r\nX-Evil: 1".encode()).decode()
    if variant == 0:  # an encoded word that decodes to CRLF + header
        raw = _headers(rng, n, CRLF, subject=f"=?utf-8?B?{injected}?=") + body
    elif variant == 1:  # a From whose display name carries a newline and an address
        raw = (f"From: =?utf-8?B?{injected}?= <{_sender(n)}>{CRLF}To: {TO}{CRLF}"
               f"Subject: x{CRLF}Message-ID: <fuzz-{n}@inj>{CRLF}{CRLF}{body}")
    elif variant == 2:  # our own address as sender (a loop), and a Reply-To to the victim
        raw = (f"From: Haus <{TO}>{CRLF}Reply-To: {VICTIM}{CRLF}To: {TO}{CRLF}Subject: loop{CRLF}"
               f"Message-ID: <fuzz-{n}@loop>{CRLF}{CRLF}{body}")
    elif variant == 3:  # Reply-To with hundreds of addresses
        many = f",{CRLF} ".join(f"v{k}@evil.example" for k in range(300))
        raw = _headers(rng, n, f"Reply-To: {many}{CRLF}{CRLF}") + body
    elif variant == 4:  # a reply key that is not ours, and a forged approver
        raw = (f"From: Ingeborg <ingeborg@example.org>{CRLF}"
               f"To: buchung+deadbeef.{'a' * 200}@{lib.MAIL_DOMAIN}"
               f"{CRLF}Subject: AW: x{CRLF}In-Reply-To: <{'x' * 900}@evil>{CRLF}"
               f"Authentication-Results: mx; dmarc=fail header.from=example.org{CRLF}"
               f"Message-ID: <fuzz-{n}@forged>{CRLF}{CRLF}JA{CRLF}")
        return _out(raw, n, "header_injection", [f"buchung+deadbeef.x@{lib.MAIL_DOMAIN}"])
    else:  # Message-ID and other headers full of junk
        raw = (f"From: {_sender(n)}{CRLF}To: {TO}{CRLF}Subject: {'=?' * 500}{CRLF}"
               f"Message-ID: <a b c\t{n}>>>{CRLF}In-Reply-To: <<<{CRLF}"
               f"References: {('<r@x>' + CRLF + ' ') * 2000}x{CRLF}"
               f"Content-Type: text/plain; charset=\"{'u' * 3000}\"{CRLF}{CRLF}{body}")
    return _out(raw, n, "header_injection")


def nested_multipart(rng: random.Random, n: int) -> lib.Outgoing:
    depth = rng.choice((10, 50, 200, 1000))
    parts = []
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="n{level}"{CRLF}{CRLF}--n{level}{CRLF}')
    inner = f"Content-Type: text/plain; charset=utf-8{CRLF}{CRLF}{_request_text(rng)}{CRLF}"
    closing = "".join(f"--n{level}--{CRLF}" for level in reversed(range(depth)))
    raw = _headers(rng, n, "MIME-Version: 1.0" + CRLF) + "".join(parts) + inner + closing
    return _out(raw, n, "nested_multipart")


def _bomb(rng: random.Random) -> tuple[str, bytes]:
    if rng.random() < 0.5:
        return "application/gzip", gzip.compress(b"\0" * (20 * 1024 * 1024), 9)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for k in range(10):
            archive.writestr(f"layer{k}.bin", b"\0" * (2 * 1024 * 1024))
    return "application/zip", buffer.getvalue()


_BOMBS: list[tuple[str, bytes]] = []


def zip_bomb(rng: random.Random, n: int) -> lib.Outgoing:
    if not _BOMBS:
        _BOMBS.extend(_bomb(random.Random(k)) for k in range(4))
    ctype, payload = rng.choice(_BOMBS)
    encoded = base64.encodebytes(payload).decode()
    many = rng.random() < 0.3
    attachments = "".join(
        f"--z{n}{CRLF}Content-Type: {ctype}; name=a{k}{CRLF}Content-Transfer-Encoding: base64{CRLF}"
        f"Content-Disposition: attachment; filename=a{k}{CRLF}{CRLF}{encoded}{CRLF}"
        for k in range(20 if many else 1))
    raw = (_headers(rng, n, f"MIME-Version: 1.0{CRLF}"
                    f'Content-Type: multipart/mixed; boundary="z{n}"{CRLF}{CRLF}')
           + f"--z{n}{CRLF}Content-Type: text/plain; charset=utf-8{CRLF}{CRLF}{_request_text(rng)}{CRLF}"
           + attachments + f"--z{n}--{CRLF}")
    return _out(raw, n, "zip_bomb")


def huge_recipients(rng: random.Random, n: int) -> lib.Outgoing:
    count = rng.choice((500, 2000, 5000))
    to = f",{CRLF} ".join(f"person{k}@gaeste.example" for k in range(count))
    raw = (f"From: {_sender(n)}{CRLF}To: {TO}, {to}{CRLF}Cc: {to}{CRLF}Subject: an alle{CRLF}"
           f"Message-ID: <fuzz-{n}@many>{CRLF}{CRLF}{_request_text(rng)}{CRLF}")
    rcpts = [TO] + [f"buchung+{k}@{lib.MAIL_DOMAIN}" for k in range(50)] + \
        [f"other{k}@elsewhere.example" for k in range(100)]
    rng.shuffle(rcpts)
    return _out(raw, n, "huge_recipients", rcpts)


def endless_quoting(rng: random.Random, n: int) -> lib.Outgoing:
    variant = rng.randrange(3)
    if variant == 0:  # quote depth in the thousands
        body = CRLF.join(">" * (k % 400) + " vom 3. bis 6. August" for k in range(1, 1200))
    elif variant == 1:  # thousands of quote headers
        body = CRLF.join(f"Am 1.1.2026 schrieb X{k} <x{k}@y.example>:{CRLF}> JA" for k in range(3000))
    else:  # Outlook headers nested forever
        block = (f"-----Ursprüngliche Nachricht-----{CRLF}Von: a{CRLF}Gesendet: b{CRLF}"
                 f"An: c{CRLF}Betreff: d{CRLF}")
        body = "NEIN" + CRLF + block * 2000
    return _out(_headers(rng, n, CRLF) + body + CRLF, n, "endless_quoting")


def garbage(rng: random.Random, n: int) -> lib.Outgoing:
    variant = rng.randrange(5)
    if variant == 0:
        return _out(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))).replace(b"\0", b"\1")
                    + f"\r\nX-N: {n}\r\n".encode(), n, "garbage")
    if variant == 1:  # no headers at all
        return _out(f"{CRLF}{_request_text(rng)} {n}{CRLF}", n, "garbage")
    if variant == 2:  # header lines without colons, continuation first
        return _out(f" continued{CRLF}no colon here {n}{CRLF}:{CRLF}{CRLF}JA{CRLF}", n, "garbage")
    if variant == 3:  # NUL bytes everywhere
        return _out(_headers(rng, n, CRLF).encode() + b"JA\0\0\0NEIN\0" * 200 + b"\r\n", n, "garbage")
    return _out(_headers(rng, n, CRLF) + "." * 5 + CRLF + "." + CRLF + ".." + CRLF, n, "garbage")


def odd_unicode(rng: random.Random, n: int) -> lib.Outgoing:
    alphabet = ("\u202e", "\u200b", "\ufeff", "🏠", "👨‍👩‍👧‍👦", "ﷺ", "Z̷̧̛a̸l̶g̴o", "𝔄𝔫𝔫𝔞", "İı", "ß", "\U0010ffff")
    text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(10, 2000)))
    lines = CRLF.join(text[k:k + 120] for k in range(0, len(text), 120))
    name = "".join(rng.choice(alphabet) for _ in range(8))
    raw = (f"From: =?utf-8?B?{base64.b64encode(name.encode()).decode()}?= <{_sender(n)}>{CRLF}To: {TO}{CRLF}"
           f"Subject: =?utf-8?B?{base64.b64encode(text[:40].encode()).decode()}?={CRLF}"
           f"Message-ID: <fuzz-{n}@uni>{CRLF}MIME-Version: 1.0{CRLF}"
           f"Content-Type: text/plain; charset=utf-8{CRLF}Content-Transfer-Encoding: 8bit{CRLF}{CRLF}"
           f"vom 3. bis {lines} 6. August{CRLF}")
    return _out(raw, n, "odd_unicode")


# (generator, weight): the heavy ones are rare
GENERATORS: list[tuple[Generator, float]] = [
    (broken_mime, 20), (wrong_charset, 15), (header_injection, 15), (nested_multipart, 8),
    (huge_recipients, 5), (endless_quoting, 6), (garbage, 15), (odd_unicode, 15),
    (zip_bomb, 0.6), (long_line, 0.25),
]


def generate(count: int, seed: int) -> list[lib.Outgoing]:
    rng = random.Random(seed)
    makers = [g for g, _ in GENERATORS]
    weights = [w for _, w in GENERATORS]
    out = [makers[0](rng, 0)]
    for n in range(1, count):
        out.append(rng.choices(makers, weights)[0](rng, n))
    return out


def pipe_ingest(service: lib.Service, messages: list[bytes]) -> Counter[int]:
    """What `mailbot ingest` does for each message, in one process (starting the command
    once per message would take most of the drill)."""
    code = ("import sys, json\nfrom mailbot.config import Settings\nfrom mailbot.runtime import Runtime\n"
            "from mailbot.inbound.ingest import ingest\n"
            "rt = Runtime.from_settings(Settings.from_env())\n"
            "codes = [ingest(rt, open(p, 'rb').read()) for p in sys.argv[1:]]\n"
            "print(json.dumps(codes))\n")
    folder = service.workdir / "pipe"
    folder.mkdir(exist_ok=True)
    paths = []
    for k, raw in enumerate(messages):
        path = folder / f"{k}.eml"
        path.write_bytes(raw)
        paths.append(str(path))
    if not paths:
        return Counter()
    done = subprocess.run([str(lib.VENV_BIN / "python"), "-c", code, *paths], cwd=service.workdir,
                          env=service.env, capture_output=True, text=True, timeout=1800, check=True)
    return Counter(json.loads(done.stdout.strip().splitlines()[-1]))


def _headers_of(value: object) -> dict[str, str]:
    """The JSON headers column: a dict on PostgreSQL, text on SQLite through plain SQL."""
    if isinstance(value, str):
        return dict(json.loads(value))
    return dict(value) if isinstance(value, dict) else {}


class MemoryWatch:
    def __init__(self, service: lib.Service) -> None:
        self.service = service
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.samples.append(lib.rss_kib(self.service.pid))

    def __enter__(self) -> MemoryWatch:
        self.samples.append(lib.rss_kib(self.service.pid))
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def run(kind: str, count: int, seed: int, rss_limit_mib: int, timeout: float, keep: bool) -> int:
    checks = lib.Checks(f"fuzz drill on {kind}: {count} hostile messages, seed {seed}")
    messages = generate(count, seed)
    kinds = Counter(m.kind for m in messages)
    checks.note(f"generated {dict(kinds)}; {sum(len(m.data) for m in messages) / 1e6:.0f} MB in all")
    with lib.served(kind, f"fuzz-{kind}", keep=keep) as (service, db):
        pid = service.pid
        with MemoryWatch(service) as memory:
            started = time.time()
            deliveries = lib.send(service.smtp_port, messages, concurrency=8, time_limit=timeout,
                                  policy=lib.RetryPolicy(max_attempts=20, session_timeout=60))
            checks.note(f"SMTP phase took {time.time() - started:.0f} s")
            hung = [d for d in deliveries if d.final is None or d.final.code == 0]
            checks.check(not hung, "every SMTP transaction got an answer (no hang)",
                         f"{len(hung)} without: {[str(d.final) for d in hung[:3]]}")
            refused = [d for d in deliveries if d.final is not None and d.final.code >= 500]
            why = Counter(f"{d.outgoing.kind}: {d.final}"[:90] for d in refused)
            checks.note(f"refused at the SMTP edge, with the answer as the reason: {len(refused)}")
            for reason, n in why.most_common(10):
                checks.note(f"   {n} × {reason}")
            # what the SMTP edge refused only for its line length goes through the pipe
            piped = [d for d in refused if "Line too long" in str(d.final)]
            codes = pipe_ingest(service, [d.outgoing.data for d in piped])
            checks.note(f"{len(piped)} refused for line length went in through `mailbot ingest`: "
                        f"exit codes {dict(codes)}")
            stored_expected = sum(1 for d in deliveries if d.accepted) + codes.get(0, 0)
            settled = db.settle(stored_expected, timeout, outbox=True)
            checks.note(f"settled after {time.time() - started:.0f} s")
        checks.check(settled, "inbox and outbox settled in bounded time",
                     f"inbox {dict(db.states('inbox_messages'))}, "
                     f"outbox {dict(db.states('outbox_messages'))}")
        checks.check(service.alive() and service.pid == pid and service.starts == 1,
                     "the service process ran throughout (no crash)")
        inbox = db.inbox()
        by_correlation = {row.correlation_id: row for row in inbox}
        accepted = [d for d in deliveries if d.accepted]
        unmatched = [d for d in accepted if d.queued_as not in by_correlation]
        checks.check(not unmatched, "every 250 names a stored message", f"{len(unmatched)} do not")
        states = Counter(row.state for row in inbox)
        reasons = Counter(f"{row.state}:{row.reason}" for row in inbox)
        checks.note(f"inbox states {dict(states)}")
        for reason, n in reasons.most_common(15):
            checks.note(f"   {n} × {reason}")
        failed = db.rows("SELECT id, detail FROM inbox_messages WHERE state = 'failed' LIMIT 5")
        checks.check(not states.get("failed") and not states.get("received"),
                     "no stored message failed or stayed unprocessed",
                     f"{dict(states)}; e.g. {[(r.id, (r.detail or '')[:160]) for r in failed]}")
        no_reason = [row.id for row in inbox if not row.reason]
        checks.check(not no_reason, "every stored message is recorded with a reason",
                     f"{len(no_reason)} without, e.g. {no_reason[:5]}")
        slowest = db.rows("SELECT id, size, reason, processed_at, received_at FROM inbox_messages "
                          "WHERE processed_at IS NOT NULL")
        durations = sorted(((lib.utc(r.processed_at) - lib.utc(r.received_at)).total_seconds(), r.id,
                            r.size, r.reason) for r in slowest)[-3:]
        checks.note(f"slowest from stored to processed (s, id, bytes, reason): "
                    f"{[(round(d, 2), i, s, r) for d, i, s, r in durations]}")
        base, peak = memory.samples[0] / 1024, max(memory.samples) / 1024
        checks.check(peak < rss_limit_mib, f"memory stayed bounded (RSS < {rss_limit_mib} MiB)",
                     f"start {base:.0f} MiB, peak {peak:.0f} MiB, end {memory.samples[-1] / 1024:.0f} MiB")
        outbox = db.rows("SELECT id, to_address, headers FROM outbox_messages")
        bad = [r.id for r in outbox if VICTIM in r.to_address or "evil.example" in r.to_address
               or any("\r" in str(v) or "\n" in str(v) for v in _headers_of(r.headers).values())]
        checks.check(not bad, "nothing injected reached the outbox (no CR/LF in a header, "
                     "no smuggled address)",
                     f"{len(bad)} rows, e.g. {bad[:5]}")
        files_with_victim = [p.name for p in service.sent_files()
                             if VICTIM.encode() in p.read_bytes()[:20000].split(b"\n\n", 1)[0]]
        checks.check(not files_with_victim, "no sent mail names the smuggled address in its headers",
                     f"{len(files_with_victim)} do")
        checks.note(f"outbox: {dict(db.states('outbox_messages'))}")
    return checks.exit_code()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rss-limit", type=int, default=1024, help="MiB")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()
    return run(args.db, args.count, args.seed, args.rss_limit, args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
