"""Settings from the environment and the house rules from `RULES_FILE`.

Both are read once at start-up and validated; a wrong value stops the program with a
message that names the key and what is wrong with it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailbot import shipped

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

DEFAULT_RULES_FILE = "rules/house.toml"  # relative to the working directory, else the shipped one


class ConfigError(Exception):
    """A setting or rules-file key is wrong. The message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Approver:
    key: str  # stable lower-case id, derived from the name
    name: str
    email: str
    aliases: tuple[str, ...] = ()
    color: str = "#555555"

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset({self.email, *self.aliases})

    def owns(self, address: str | None) -> bool:
        return address is not None and address.strip().lower() in self.addresses


@dataclass(frozen=True)
class Limits:
    max_party_size: int = 10
    future_horizon_months: int = 18
    long_stay_warn_days: int = 7
    max_text_length: int = 500
    max_first_name_length: int = 40
    requests_per_day: int = 10
    web_requests_per_hour: int = 30
    recoveries_per_hour: int = 5
    recovery_cooldown_seconds: int = 60
    digest_min_age_days: int = 5
    purge_canceled_after_days: int = 365
    outbox_retry_delays: tuple[int, ...] = (2, 4, 8)
    max_message_bytes: int = 10_000_000
    help_answers_per_day: int = 1
    new_requests_per_hour: int = 30
    answers_per_recipient_per_day: int = 10
    loop_answers: int = 4
    loop_window_minutes: int = 60
    smtp_idle_seconds: int = 60
    smtp_session_seconds: int = 600
    smtp_recipients_per_session: int = 100


@dataclass(frozen=True)
class House:
    name: str
    timezone: ZoneInfo
    approvers: tuple[Approver, ...]
    limits: Limits = field(default_factory=Limits)
    admin_addresses: frozenset[str] = frozenset()

    def approver(self, key: str) -> Approver:
        for approver in self.approvers:
            if approver.key == key:
                return approver
        raise KeyError(key)

    def approver_for_address(self, address: str | None) -> Approver | None:
        for approver in self.approvers:
            if approver.owns(address):
                return approver
        return None


def _require(table: dict[str, Any], key: str, where: str, kind: type) -> Any:
    if key not in table:
        raise ConfigError(f"{where}.{key}", "is missing")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ConfigError(f"{where}.{key}", f"must be {kind.__name__}, not {value!r}")
    return value


def _address(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise ConfigError(key, f"is not an email address: {value!r}")
    return value.strip().lower()


def _approvers(raw: Any) -> tuple[Approver, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("approvers", "needs at least one [[approvers]] table")
    approvers: list[Approver] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        where = f"approvers[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(where, "must be a table")
        unknown = set(table) - {"name", "email", "aliases", "color"}
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]}", "is not a known approver key")
        name = _require(table, "name", where, str).strip()
        if not name:
            raise ConfigError(f"{where}.name", "must not be empty")
        email = _address(_require(table, "email", where, str), f"{where}.email")
        aliases_raw = table.get("aliases", [])
        if not isinstance(aliases_raw, list):
            raise ConfigError(f"{where}.aliases", "must be a list of addresses")
        aliases = tuple(_address(a, f"{where}.aliases") for a in aliases_raw)
        color = table.get("color", "#555555")
        if not isinstance(color, str) or not _COLOR.match(color):
            raise ConfigError(f"{where}.color", f"must look like #1a2b3c, not {color!r}")
        key = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or f"approver-{index}"
        for address in (email, *aliases):
            if address in seen:
                raise ConfigError(f"{where}.email", f"{address} belongs to two approvers")
            seen.add(address)
        approvers.append(Approver(key, name, email, aliases, color))
    if len({a.key for a in approvers}) != len(approvers):
        raise ConfigError("approvers", "two approvers have the same name")
    return tuple(approvers)


def _limits(raw: Any) -> Limits:
    if raw is None:
        return Limits()
    if not isinstance(raw, dict):
        raise ConfigError("limits", "must be a table")
    defaults = Limits()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not hasattr(defaults, key):
            raise ConfigError(f"limits.{key}", "is not a known limit")
        if key == "outbox_retry_delays":
            ok = isinstance(value, list) and all(isinstance(v, int) and v > 0 for v in value)
            if not ok:
                raise ConfigError(f"limits.{key}", "must be a list of positive seconds")
            values[key] = tuple(value)
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"limits.{key}", f"must be a whole number ≥ 0, not {value!r}")
        else:
            values[key] = value
    if values.get("max_party_size", 1) < 1:
        raise ConfigError("limits.max_party_size", "must be at least 1")
    return Limits(**{**defaults.__dict__, **values})


def load_house(path: str | Path) -> House:
    """Read and validate the rules file (TOML)."""
    path = Path(path)
    if path == Path(DEFAULT_RULES_FILE) and not path.exists():  # not run from a checkout
        path = shipped.folder("rules") / "house.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("RULES_FILE", f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("RULES_FILE", f"{path} is not valid TOML: {exc}") from None
    house = data.get("house", {})
    if not isinstance(house, dict):
        raise ConfigError("house", "must be a table")
    name = house.get("name", "Haus Betzenstein")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("house.name", "must be a non-empty text")
    tz_name = house.get("timezone", "Europe/Berlin")
    try:
        timezone = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("house.timezone", f"unknown time zone {tz_name!r}") from None
    admin = data.get("admin", {})
    admin_addresses = frozenset(
        _address(a, "admin.addresses") for a in (admin.get("addresses", []) or [])
    )
    return House(
        name=name.strip(),
        timezone=timezone,
        approvers=_approvers(data.get("approvers")),
        limits=_limits(data.get("limits")),
        admin_addresses=admin_addresses,
    )


TRANSPORTS = ("maildir", "smtp", "resend", "console")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/mailbot.sqlite3"
    smtp_listen: str = "127.0.0.1:2525"
    web_listen: str = "127.0.0.1:8000"
    base_url: str = "http://127.0.0.1:8000"
    mail_domain: str = "haus-betzenstein.de"
    booking_address: str = "buchung@haus-betzenstein.de"
    mail_transport: str = "maildir"
    maildir: str = "var/outbox"
    outbound_smtp_url: str = ""
    resend_api_key: str = ""
    resend_api_url: str = ""
    imap_url: str = ""
    rules_file: str = DEFAULT_RULES_FILE
    secret_key: str = ""  # unset: a random key kept in var/secret_key
    admin_token: str = ""
    forwarded_allow_ips: str = ""  # proxies whose client-address headers are believed
    client_ip_header: str = ""  # e.g. Fly-Client-IP; default X-Forwarded-For
    trusted_authserv_id: str = ""  # whose Authentication-Results count for IMAP and pipe mail
    dns_server: str = ""  # host[:port] for SPF/DKIM/DMARC lookups; empty: the system's
    smtp_tls_cert: str = ""  # PEM files: with both, the SMTP server offers STARTTLS
    smtp_tls_key: str = ""

    @property
    def booking_local_part(self) -> str:
        return self.booking_address.split("@", 1)[0]

    @staticmethod
    def from_env(environ: dict[str, str] | None = None, *, strict: bool = True) -> Settings:
        """Build settings from the environment; a `.env` file fills what is unset.

        Without SECRET_KEY a random key is made once and kept in `var/secret_key`. `strict`
        refuses weak or published secrets (`doctor` lists them all instead)."""
        if environ is None:
            from dotenv import load_dotenv

            load_dotenv(".env", override=False)
            environ = dict(os.environ)
        values: dict[str, Any] = {}
        for name in Settings.__dataclass_fields__:
            if name.upper() in environ and environ[name.upper()] != "":
                values[name] = environ[name.upper()].strip()
        if "booking_address" not in values and "mail_domain" in values:
            values["booking_address"] = f"buchung@{values['mail_domain']}"
        if "secret_key" not in values:
            values["secret_key"] = stored_secret_key(Path("var"), create=strict)
        settings = Settings(**values)
        settings.validate()
        if strict:
            for problem in secret_problems(settings):
                raise problem
        return settings

    def validate(self) -> None:
        if self.mail_transport not in TRANSPORTS:
            raise ConfigError("MAIL_TRANSPORT", f"must be one of {', '.join(TRANSPORTS)}")
        for key in ("smtp_listen", "web_listen"):
            host, _, port = getattr(self, key).rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(key.upper(), "must look like host:port")
        _address(self.booking_address, "BOOKING_ADDRESS")
        try:
            trusted_proxies(self.forwarded_allow_ips)
        except ValueError as exc:
            raise ConfigError("FORWARDED_ALLOW_IPS", f"must be addresses or networks: {exc}") from None
        if self.mail_transport == "resend" and not self.resend_api_key:
            raise ConfigError("RESEND_API_KEY", "is required with MAIL_TRANSPORT=resend")
        if self.mail_transport == "smtp" and not self.outbound_smtp_url:
            raise ConfigError("OUTBOUND_SMTP_URL", "is required with MAIL_TRANSPORT=smtp")
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ConfigError("SMTP_TLS_KEY" if self.smtp_tls_cert else "SMTP_TLS_CERT",
                              "is needed as well: STARTTLS takes a certificate and its key")
        for key in ("smtp_tls_cert", "smtp_tls_key"):
            if getattr(self, key) and not Path(getattr(self, key)).is_file():
                raise ConfigError(key.upper(), f"{getattr(self, key)} is not a readable file")
        if self.dns_server and not re.match(r"^(\[[0-9a-fA-F:]+\]|[\w.:-]+?)(:\d+)?$", self.dns_server):
            raise ConfigError("DNS_SERVER", "must look like host or host:port")

    @staticmethod
    def split_listen(value: str) -> tuple[str, int]:
        host, _, port = value.rpartition(":")
        return host.strip("[]"), int(port)


def trusted_proxies(setting: str) -> tuple[list[ipaddress.IPv4Network | ipaddress.IPv6Network], bool]:
    """`FORWARDED_ALLOW_IPS` as networks; the flag says "*" (every peer is a proxy)."""
    items = [item.strip() for item in setting.split(",") if item.strip()]
    return [ipaddress.ip_network(item, strict=False) for item in items if item != "*"], "*" in items


# Values that were ever printed in this project's docs or defaults: anyone can sign with them.
PUBLISHED_SECRETS = frozenset({
    "change-me-in-production", "changeme", "change-me", "secret", "secret-key", "your-secret-key",
    "development", "dev", "test", "admin", "admin-token", "password", "…", "...",
})
MIN_SECRET_KEY = 32
MIN_ADMIN_TOKEN = 24


def stored_secret_key(folder: Path, create: bool = True) -> str:
    """The key generated at the first start, kept readable by this user only (mode 0600);
    without `create` (the doctor changes nothing) "" when there is none yet."""
    path = folder / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            return ""
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _weak(value: str, minimum: int) -> str | None:
    if value.strip().lower() in PUBLISHED_SECRETS:
        problem = "is a published example value: anyone could use it"
    elif len(value.encode()) < minimum:
        problem = f"is too short: use at least {minimum} random characters"
    elif len(set(value)) < 8:
        problem = "is not random enough (too few different characters)"
    else:
        return None
    return f"{problem}; `openssl rand -hex 32` makes a good one"


def secret_problems(settings: Settings) -> list[ConfigError]:
    """Every unsafe secret, each named by its variable."""
    found: list[ConfigError] = []
    problem = _weak(settings.secret_key, MIN_SECRET_KEY)
    if problem:
        found.append(ConfigError("SECRET_KEY", problem))
    if settings.admin_token:
        problem = _weak(settings.admin_token, MIN_ADMIN_TOKEN)
        if problem is None and settings.admin_token == settings.secret_key:
            problem = "must not be the same as SECRET_KEY"
        if problem:
            found.append(ConfigError("ADMIN_TOKEN", problem))
    return found
