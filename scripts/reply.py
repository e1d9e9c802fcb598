"""Answer one of mailbot's outgoing mails the way a mail client would, and hand the
reply to `mailbot ingest`. The mail is its number in `mailbot mail list`, or a file.

    .venv/bin/python scripts/reply.py 2 "JA"
    .venv/bin/python scripts/reply.py var/outbox/new/<file> "NEIN, weil wir selbst da sind"
"""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    mailbot = Path(sys.executable).with_name("mailbot")
    which = sys.argv[1]
    if which.isdigit():
        shown = subprocess.run([str(mailbot), "mail", "show", "--raw", which], capture_output=True)
        if shown.returncode:
            sys.stderr.buffer.write(shown.stderr)
            return shown.returncode
        data = shown.stdout
    else:
        data = Path(which).read_bytes()
    original = message_from_bytes(data, policy=policy.default)
    body = original.get_body(preferencelist=("plain",))
    quoted = "\n".join(f"> {line}" for line in (body.get_content() if body else "").splitlines())
    reply = EmailMessage()
    reply["From"] = original["To"]
    reply["To"] = original["Reply-To"] or original["From"]
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Date"] = formatdate(localtime=True)
    reply["Message-ID"] = make_msgid(domain="example.org")
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    reply.set_content(f"{sys.argv[2]}\n\nAm {original['Date']} schrieb {original['From']}:\n{quoted}\n")
    return subprocess.run([str(mailbot), "ingest"], input=reply.as_bytes()).returncode


if __name__ == "__main__":
    sys.exit(main())
