"""The rules file and settings are validated at start-up; a mistake names its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailbot.config import ConfigError, Settings, load_house
from tests.conftest import ROOT

GOOD = (ROOT / "rules" / "house.toml").read_text(encoding="utf-8")


def _house(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "house.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_rules_name_three_approvers_and_every_limit() -> None:
    house = load_house(ROOT / "rules" / "house.toml")
    assert [a.name for a in house.approvers] == ["Ingeborg", "Cornelia", "Angelika"]
    assert house.limits.max_party_size == 10 and house.limits.future_horizon_months == 18
    assert house.limits.long_stay_warn_days == 7 and house.limits.outbox_retry_delays == (2, 4, 8)
    assert str(house.timezone) == "Europe/Berlin"


def test_a_file_with_other_approvers_replaces_the_defaults(tmp_path: Path) -> None:
    path = _house(tmp_path, '[[approvers]]\nname = "Oma"\nemail = "Oma@Example.org"\n'
                            'aliases = ["oma@web.de"]\ncolor = "#123456"\n')
    house = load_house(path)
    assert [a.name for a in house.approvers] == ["Oma"]
    assert house.approver_for_address("OMA@web.de") is house.approvers[0]


@pytest.mark.parametrize(("change", "key"), [
    (('email = "ingeborg@example.org"', 'email = "ingeborg"'), "approvers[0].email"),
    (('color = "#c0392b"', 'color = "red"'), "approvers[0].color"),
    (("max_party_size = 10", 'max_party_size = "zehn"'), "limits.max_party_size"),
    (("long_stay_warn_days = 7", "long_stay_days = 7"), "limits.long_stay_days"),
    (('timezone = "Europe/Berlin"', 'timezone = "Europe/Betzenstein"'), "house.timezone"),
    (('name = "Cornelia"\n', ''), "approvers[1].name"),
])
def test_a_wrong_rules_file_names_the_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    assert change[0] in GOOD
    with pytest.raises(ConfigError) as caught:
        load_house(_house(tmp_path, GOOD.replace(change[0], change[1], 1)))
    assert caught.value.key == key


def test_the_program_stops_with_the_key_in_its_message(tmp_path: Path) -> None:
    path = _house(tmp_path, GOOD.replace("max_party_size = 10", "max_party_size = -3"))
    result = subprocess.run([str(Path(sys.executable).with_name("mailbot")), "jobs", "run", "cleanup"],
                            env={"RULES_FILE": str(path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                                 "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
    assert "limits.max_party_size" in result.stderr


def test_settings_reject_an_unknown_transport() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"MAIL_TRANSPORT": "pigeon"})
    assert caught.value.key == "MAIL_TRANSPORT"


def test_settings_derive_the_booking_address_from_the_domain() -> None:
    settings = Settings.from_env({"MAIL_DOMAIN": "ferienhaus.example"})
    assert settings.booking_address == "buchung@ferienhaus.example"
