"""The image and the Fly.io app describe the same install as pyproject.toml, the README and
the CLI. There is no Docker engine here, so the files are read and checked against the
code they start: every command they run exists, the ports and paths agree."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from mailbot.cli import main as cli_main
from tests.conftest import ROOT


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def _all(name: str) -> list[str]:
    return [args for word, args in dockerfile() if word == name]


def _exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else ["sh", "-c", args]


def _env() -> dict[str, str]:
    values: dict[str, str] = {}
    for args in _all("ENV"):
        for part in shlex.split(args):
            key, _, value = part.partition("=")
            values[key] = value
    return values


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _fly() -> dict[str, Any]:
    return tomllib.loads((ROOT / "fly.toml").read_text())


def _mailbot_commands(shell: str) -> list[list[str]]:
    """The arguments of each `mailbot …` invocation in a shell command line."""
    found = []
    for part in re.split(r"&&|;|\|\|", shell):
        words = shlex.split(part)
        if words[:1] == ["exec"]:
            words = words[1:]
        if words[:1] == ["mailbot"]:
            found.append(words[1:])
    return found


def _cli_accepts(args: list[str]) -> None:
    """The CLI parses these arguments (with --help appended, so nothing runs)."""
    with pytest.raises(SystemExit) as stop:
        cli_main([*args, "--help"])
    assert stop.value.code == 0, args


def test_image_uses_the_python_that_pyproject_requires() -> None:
    (base,) = _all("FROM")
    assert base.startswith("python:3.11-slim")
    required = _pyproject()["project"]["requires-python"]
    assert required == ">=3.11"


def test_image_installs_the_package_as_pyproject_defines_it() -> None:
    copied = {source for args in _all("COPY") for source in shlex.split(args)[:-1]}
    project = _pyproject()["project"]
    assert {"pyproject.toml", project["readme"], "mailbot"} <= copied
    # what the running service reads beside the package
    assert {"templates", "rules"} <= copied
    installs = [args for args in _all("RUN") if "pip install" in args]
    assert len(installs) == 1
    words = shlex.split(installs[0])
    assert words[words.index("install") + 1:] in (["."], ["-e", "."])
    assert "mailbot" in project["scripts"]
    assert project["scripts"]["mailbot"] == "mailbot.cli:main"


def test_image_runs_as_a_non_root_user() -> None:
    users = _all("USER")
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, (word, _) in enumerate(dockerfile()) if word == "USER")
    cmd = max(i for i, (word, _) in enumerate(dockerfile()) if word == "CMD")
    assert last_user < cmd


def test_image_migrates_then_serves_and_every_command_exists() -> None:
    (cmd,) = _all("CMD")
    shell = _exec_form(cmd)[-1]
    commands = _mailbot_commands(shell)
    assert commands == [["migrate"], ["serve"]]
    for args in commands:
        _cli_accepts(args)
    assert shell.index("mailbot migrate") < shell.index("mailbot serve")
    assert "&&" in shell  # no serve on a failed migration


def test_image_listens_on_all_interfaces_with_the_ports_fly_expects() -> None:
    env = _env()
    assert env["SMTP_LISTEN"] == "0.0.0.0:2525"
    assert env["WEB_LISTEN"] == "0.0.0.0:8080"
    fly = _fly()
    assert fly["http_service"]["internal_port"] == 8080
    (smtp,) = fly["services"]
    assert smtp["protocol"] == "tcp" and smtp["internal_port"] == 2525
    assert [p["port"] for p in smtp["ports"]] == [25]
    assert set(_all("EXPOSE")[0].split()) == {"2525", "8080"}
    assert Path(env["RULES_FILE"]).relative_to("/app") == Path("rules/house.toml")
    assert (ROOT / "rules" / "house.toml").exists()


def test_image_healthcheck_asks_health_on_the_web_port() -> None:
    (check,) = _all("HEALTHCHECK")
    assert "/health" in check and "WEB_LISTEN" in check


def test_fly_app_in_frankfurt_with_health_check_256mb_and_migrations_on_release() -> None:
    fly = _fly()
    assert fly["app"] == "mailbot"
    assert fly["primary_region"] == "fra"
    (check,) = fly["http_service"]["checks"]
    assert check["path"] == "/health" and check["method"] == "GET"
    (vm,) = fly["vm"]
    assert vm["memory"] == "256mb"
    release = fly["deploy"]["release_command"]
    assert _mailbot_commands(release) == [["migrate"]]
    _cli_accepts(["migrate"])
    # the scheduler and SMTP server must not be stopped for idleness
    assert fly["http_service"]["auto_stop_machines"] in ("off", False)
    assert fly["http_service"]["min_machines_running"] >= 1


def test_fly_env_names_are_settings_mailbot_reads() -> None:
    from mailbot.config import Settings

    known = {name.upper() for name in Settings.__dataclass_fields__} | {"LOG_LEVEL"}
    assert set(_fly()["env"]) <= known
    assert set(_env()) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR",
                          "PIP_DISABLE_PIP_VERSION_CHECK"} <= known


def test_dockerignore_keeps_local_state_out_but_not_what_the_image_copies() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch(path, p.rstrip("/")) or path.startswith(p.rstrip("/") + "/")
                   for p in patterns)

    for private in (".venv", ".env", "var", ".git"):
        assert ignored(private), private
    for needed in {source for args in _all("COPY") for source in shlex.split(args)[:-1]}:
        assert not ignored(needed), needed


def test_the_cli_lists_the_commands_the_deployment_docs_use() -> None:
    help_text = subprocess.run([sys.executable, "-m", "mailbot.cli", "--help"], capture_output=True,
                               text=True, check=True).stdout
    for command in ("serve", "migrate", "ingest", "jobs", "doctor", "log"):
        assert command in help_text
    _cli_accepts(["jobs", "run", "digest"])
    _cli_accepts(["ingest"])
    _cli_accepts(["doctor"])
