"""`mailbot doctor`: is this installation able to work? Checks configuration, database,
migrations, the outbound transport and the ways mail comes in, and says in plain German
what is wrong and what to do. Exit 1 when anything is wrong.

Nothing here changes state: no migration, no mail sent, no message fetched.
"""

from __future__ import annotations

import errno
import os
import smtplib
import socket
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

from mailbot.config import ConfigError, House, Settings, load_house, secret_problems

TIMEOUT = 5.0


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    text: str
    hint: bool = False  # worth knowing, but nothing is broken


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "Verbindung abgelehnt"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "keine Antwort (Zeitüberschreitung)"
    if isinstance(exc, socket.gaierror):
        return "Rechnername unbekannt"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def check_settings(settings: Settings, key_was_set: bool = True) -> list[Finding]:
    """Every unsafe setting is an error, whatever BASE_URL says."""
    found = [Finding(True, "Konfiguration",
                     f"gelesen (MAIL_TRANSPORT={settings.mail_transport}, "
                     f"DATABASE_URL={_hide_password(settings.database_url)})")]
    public = settings.base_url.startswith("https://")
    for problem in secret_problems(settings):
        if problem.key != "SECRET_KEY" or key_was_set:  # a generated key is random
            found.append(Finding(False, problem.key, _german(problem.problem)))
    if not key_was_set:
        found.append(Finding(not public, "SECRET_KEY",
                             "ist nicht gesetzt: mailbot nutzt den zufälligen Schlüssel in "
                             "var/secret_key. Geht dieser Ordner verloren (neuer Container), werden "
                             "alle verschickten Links ungültig: setze SECRET_KEY fest.",
                             hint=not public))
    if not settings.admin_token:
        found.append(Finding(True, "ADMIN_TOKEN", "ist leer: das Mail-Protokoll im Web ist gesperrt.",
                             hint=True))
    if not public and not settings.base_url.startswith(("http://127.", "http://localhost",
                                                        "http://[::1]")):
        found.append(Finding(False, "BASE_URL", f"{settings.base_url} ist kein https: Links mit "
                                                "Zugangsschlüsseln gingen unverschlüsselt durchs Netz."))
    return found


def check_rules(house: House) -> list[Finding]:
    names = ", ".join(a.name for a in house.approvers)
    return [Finding(True, "Hausregeln", f"{house.name}, Freigebende: {names}")]


def check_database(settings: Settings) -> list[Finding]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from mailbot.store import DatabaseUnavailable
    from mailbot.store.db import Store

    store = Store(settings.database_url, pool_size=1)
    try:
        file = make_url(store.url).database if store.is_sqlite else None
        if file and file != ":memory:" and not Path(file).exists():
            return [Finding(False, "Datenbank", f"die Datei {file} gibt es noch nicht. "
                                                "`mailbot migrate` legt sie an.")]
        try:
            store.ping()
        except (DatabaseUnavailable, SQLAlchemyError) as exc:
            return [Finding(False, "Datenbank", f"nicht erreichbar: {_reason(exc)}. "
                                                "Prüfe DATABASE_URL und ob der Server läuft.")]
        found = [Finding(True, "Datenbank", "erreichbar")]
        folder = Path(__file__).parent / "store" / "migrations"
        script = ScriptDirectory(str(folder))
        heads = set(script.get_heads())
        with store.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        if current == heads:
            found.append(Finding(True, "Migrationen", f"auf dem neuesten Stand ({', '.join(heads)})"))
        elif not current:
            found.append(Finding(False, "Migrationen",
                                 "die Datenbank ist leer. Führe `mailbot migrate` aus."))
        else:
            found.append(Finding(False, "Migrationen",
                                 f"Stand {', '.join(sorted(current))}, aktuell wäre "
                                 f"{', '.join(sorted(heads))}. Führe `mailbot migrate` aus."))
        return found
    finally:
        store.dispose()


def _maildir(settings: Settings) -> Finding:
    folder = Path(settings.maildir)
    try:
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder / "tmp", prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(False, "Postausgang (maildir)",
                       f"{folder} ist nicht beschreibbar: {exc.strerror or _reason(exc)}. "
                       "Prüfe MAILDIR und die Rechte des Ordners.")
    return Finding(True, "Postausgang (maildir)", f"Mails landen als Dateien in {folder.resolve()}")


def _smtp(settings: Settings) -> Finding:
    parts = urlsplit(settings.outbound_smtp_url)
    what = "Postausgang (SMTP)"
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        return Finding(False, what, "OUTBOUND_SMTP_URL muss so aussehen: smtp://user:pass@host:port")
    tls = parts.scheme == "smtps"
    port = parts.port or (465 if tls else 25)
    where = f"{parts.hostname}:{port}"
    connection: smtplib.SMTP | None = None
    try:
        context = ssl.create_default_context()
        if tls:
            connection = smtplib.SMTP_SSL(parts.hostname, port, timeout=TIMEOUT, context=context)
        else:
            connection = smtplib.SMTP(parts.hostname, port, timeout=TIMEOUT)
        code, _ = connection.ehlo()
        if code != 250:
            return Finding(False, what, f"{where} antwortet auf EHLO mit {code}.")
        if not tls and connection.has_extn("starttls"):
            connection.starttls(context=context)
            connection.ehlo()
        if parts.username:
            connection.login(unquote(parts.username), unquote(parts.password or ""))
    except smtplib.SMTPAuthenticationError:
        return Finding(False, what, f"{where} lehnt Benutzer oder Passwort ab. Prüfe OUTBOUND_SMTP_URL.")
    except (OSError, smtplib.SMTPException) as exc:
        return Finding(False, what, f"{where} nicht erreichbar: {_reason(exc)}.")
    finally:
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
    return Finding(True, what, f"{where} antwortet" + (" und nimmt die Anmeldung an" if parts.username
                                                        else ""))


def _resend(settings: Settings) -> Finding:
    what = "Postausgang (Resend)"
    if not settings.resend_api_key:
        return Finding(False, what, "RESEND_API_KEY fehlt.")
    url = (settings.resend_api_url or "https://api.resend.com").rstrip("/")
    request = urllib.request.Request(url + "/domains", method="GET", headers={
        "Authorization": f"Bearer {settings.resend_api_key}", "User-Agent": "mailbot-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        return Finding(False, what, f"{url} nicht erreichbar: {_reason(exc)}.")
    if status in (500, 502, 503, 504):
        return Finding(False, what, f"{url} antwortet mit Fehler {status}.")
    return Finding(True, what, f"{url} erreichbar, Schlüssel gesetzt")


def check_outbound(settings: Settings) -> list[Finding]:
    checks: dict[str, Callable[[Settings], Finding]] = {"maildir": _maildir, "smtp": _smtp,
                                                        "resend": _resend}
    if settings.mail_transport == "console":
        return [Finding(True, "Postausgang (console)", "Mails werden nur auf der Konsole ausgegeben",
                        hint=True)]
    return [checks[settings.mail_transport](settings)]


def _served(host: str, port: int, greeting: bytes) -> bool:
    """Is something on host:port that greets like the service we expect?"""
    try:
        with socket.create_connection((host if host not in ("0.0.0.0", "::", "") else "127.0.0.1",
                                       port), timeout=TIMEOUT) as connection:
            if not greeting:
                return True
            return connection.recv(512).startswith(greeting)
    except OSError:
        return False


def _listen(what: str, variable: str, value: str, greeting: bytes) -> Finding:
    host, port = Settings.split_listen(value)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE and _served(host, port, greeting):
            return Finding(True, what, f"{value} ist schon in Betrieb (läuft mailbot bereits?)")
        if exc.errno == errno.EADDRINUSE:
            return Finding(False, what, f"{value} ist von einem anderen Programm belegt. "
                                        f"Wähle einen anderen Port in {variable}.")
        if exc.errno == errno.EACCES:
            return Finding(False, what, f"{value}: keine Berechtigung für diesen Port "
                                        f"(unter 1024 nur mit Sonderrechten). Ändere {variable}.")
        return Finding(False, what, f"{value} lässt sich nicht öffnen: {exc.strerror}. Prüfe {variable}.")
    return Finding(True, what, f"{value} ist frei")


def _imap(settings: Settings) -> Finding:
    from imapclient import IMAPClient

    what = "Posteingang (IMAP)"
    parts = urlsplit(settings.imap_url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        return Finding(False, what, "IMAP_URL muss so aussehen: imaps://user:pass@host:port/INBOX")
    tls = parts.scheme == "imaps"
    port = parts.port or (993 if tls else 143)
    where = f"{parts.hostname}:{port}"
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    try:
        client = IMAPClient(parts.hostname, port=port, ssl=tls, timeout=TIMEOUT)
    except (OSError, ssl.SSLError) as exc:
        return Finding(False, what, f"{where} nicht erreichbar: {_reason(exc)}.")
    try:
        if not tls and b"STARTTLS" in client.capabilities():
            client.starttls(ssl.create_default_context())
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select_folder(folder, readonly=True)
    except Exception as exc:  # imapclient raises its own and imaplib's errors
        return Finding(False, what, f"{where}: Anmeldung oder Ordner {folder!r} geht nicht: "
                                    f"{_reason(exc)}. Prüfe IMAP_URL.")
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone
            client.shutdown()
    return Finding(True, what, f"{where}: Anmeldung klappt, Ordner {folder!r} ist da")


def check_inbound(settings: Settings) -> list[Finding]:
    found = [
        _listen("Posteingang (SMTP)", "SMTP_LISTEN", settings.smtp_listen, b"220"),
        _listen("Web", "WEB_LISTEN", settings.web_listen, b""),
    ]
    if settings.imap_url:
        found.append(_imap(settings))
    found.extend(_authenticity(settings))
    return found


def _authenticity(settings: Settings) -> list[Finding]:
    """SPEC §5 "Authentic": reply keys must not cross the internet in clear text, and mail
    read from a mailbox carries no authenticated sender without a trusted authserv-id."""
    found = []
    host = settings.smtp_listen.rsplit(":", 1)[0].strip("[]")
    if not settings.smtp_tls_cert and host not in ("127.0.0.1", "localhost", "::1"):
        found.append(Finding(False, "SMTP_TLS_CERT",
                             f"ist leer, aber SMTP_LISTEN={settings.smtp_listen} ist von außen "
                             "erreichbar: ohne STARTTLS gehen Antwortschlüssel unverschlüsselt "
                             "durchs Netz. Setze SMTP_TLS_CERT und SMTP_TLS_KEY."))
    if settings.imap_url and not settings.trusted_authserv_id:
        found.append(Finding(False, "TRUSTED_AUTHSERV_ID",
                             "ist leer, aber IMAP_URL ist gesetzt: keine Mail aus dem Postfach gilt "
                             "als echt, neue Mails von Freigebenden wirken nur über eine Antwort. "
                             "Trag die authserv-id deines Anbieters ein (aus seinen "
                             "Authentication-Results-Kopfzeilen)."))
    return found


def _print(finding: Finding, out: TextIO) -> None:
    mark = "HINWEIS" if finding.ok and finding.hint else "OK" if finding.ok else "FEHLER"
    print(f"{mark:8} {finding.what}: {finding.text}", file=out)


def doctor(environ: dict[str, str] | None = None, out: TextIO | None = None) -> int:
    """Run every check, print one line each; 0 when all is well, else 1."""
    out = out or sys.stdout
    findings: list[Finding] = []
    try:
        settings = Settings.from_env(environ, strict=False)
    except ConfigError as exc:
        _print(Finding(False, "Konfiguration", f"{exc.key} {_german(exc.problem)}"), out)
        print("Ohne gültige Konfiguration prüfe ich nichts weiter.", file=out)
        return 1
    given = environ if environ is not None else os.environ  # from_env has read .env into it
    findings += check_settings(settings, key_was_set=bool(given.get("SECRET_KEY")))
    try:
        findings += check_rules(load_house(settings.rules_file))
    except ConfigError as exc:
        where = "" if exc.key == "RULES_FILE" else f" (in {settings.rules_file})"
        findings.append(Finding(False, "Hausregeln", f"{exc.key}: {_german(exc.problem)}{where}"))
    for check in (check_database, check_outbound, check_inbound):
        try:
            findings += check(settings)
        except Exception as exc:  # a check must never hide the others
            findings.append(Finding(False, check.__name__, f"unerwarteter Fehler: {_reason(exc)}"))
    for finding in findings:
        _print(finding, out)
    broken = [f for f in findings if not f.ok]
    print(f"{len(broken)} Problem(e) gefunden." if broken else "Alles in Ordnung.", file=out)
    return 1 if broken else 0


_PROBLEMS = {
    "is missing": "fehlt",
    "is required with": "ist nötig mit",
    "must be one of": "muss eins davon sein:",
    "must look like host:port": "muss die Form host:port haben",
    "is not an email address": "ist keine E-Mail-Adresse",
    "does not exist": "gibt es nicht",
    "is not valid TOML": "ist kein gültiges TOML",
    "is a published example value: anyone could use it":
        "ist ein veröffentlichter Beispielwert: jeder könnte ihn benutzen",
    "is too short: use at least": "ist zu kurz: nimm mindestens",
    "random characters": "zufällige Zeichen",
    "is not random enough (too few different characters)":
        "ist nicht zufällig genug (zu wenige verschiedene Zeichen)",
    "must not be the same as SECRET_KEY": "darf nicht gleich SECRET_KEY sein",
    "`openssl rand -hex 32` makes a good one": "`openssl rand -hex 32` erzeugt einen guten",
}


def _german(problem: str) -> str:
    """Config errors are written in English for developers; the doctor speaks German."""
    for english, german in _PROBLEMS.items():
        problem = problem.replace(english, german)
    return problem

