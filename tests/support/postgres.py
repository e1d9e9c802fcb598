"""A PostgreSQL server for the tests: the machine's own on 127.0.0.1:5432 when it answers,
otherwise a throwaway cluster started here (initdb + pg_ctl from Debian's packages)."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import psycopg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _start_cluster() -> str:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        raise RuntimeError("no PostgreSQL server: install Debian's postgresql package")
    bindir = binaries[-1]
    data = tempfile.mkdtemp(prefix="mailbot-pg-")
    port = _free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*run_as, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", data, "-w", "-l", f"{data}/log", "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200",
                    "start"], check=True, stdout=subprocess.DEVNULL)
    atexit.register(lambda: subprocess.run(
        [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return f"postgresql://postgres@127.0.0.1:{port}"


_server: str | None = None


def server() -> str:
    """Base DSN (no database name) of a running server."""
    global _server
    if _server is None:
        candidate = os.environ.get("MAILBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
        _server = candidate if _answers(f"{candidate}/postgres") else _start_cluster()
    return _server


def create_database(template: str | None = None) -> str:
    """A new empty (or template-copied) database; returns its SQLAlchemy URL."""
    name = f"mailbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server()}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{server()}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{server()}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
