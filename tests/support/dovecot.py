"""A real Dovecot IMAP server for the tests: its own config, users and maildirs in a temp
directory, plaintext login on a free loopback port. Restartable on the same port."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from tests.support.background import free_port, wait_for_port

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = mailbot-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_uid = {internal}
mail_gid = {internal}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={internal} gid={internal} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
{capability}
}}
"""


def _system_user(*names: str) -> str:
    for name in names:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(f"none of the system users {names} exists")


class Dovecot:
    def __init__(self, user: str = "buchung", password: str = "geheim",
                 capability: str | None = None) -> None:
        """`capability`: replace the CAPABILITY list the server announces (e.g. without IDLE)."""
        if shutil.which("dovecot") is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        self.user, self.password = user, password
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-dovecot-"))
        self.port = free_port()
        self.internal = _system_user("dovecot", "mail", "nobody")
        self.login = _system_user("dovenull", "nobody")
        self.config = self.root / "dovecot.conf"
        self.config.write_text(CONFIG.format(root=self.root, port=self.port,
                                             internal=self.internal, login=self.login,
                                             capability=f"  imap_capability = {capability}"
                                             if capability else ""))
        (self.root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        owner = pwd.getpwnam(self.internal)
        for sub in ("mail", "home", "state"):
            os.chown(self.root / sub, owner.pw_uid, owner.pw_gid)
        os.chmod(self.root, 0o755)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/INBOX"

    def start(self) -> None:
        # A session of its own, so stopping ends every child too (open IMAP connections included).
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        try:
            wait_for_port(self.port, timeout=20)
        except OSError as exc:
            self.stop()
            log = self.root / "dovecot.log"
            raise RuntimeError("dovecot did not start: " + (log.read_text() if log.exists() else "")
                               ) from exc

    def stop(self) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        with suppress(ProcessLookupError):  # children that outlived the master
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None
        deadline = time.monotonic() + 10  # until the port is really free again
        while time.monotonic() < deadline:
            try:
                wait_for_port(self.port, timeout=0.1)
            except OSError:
                return
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
