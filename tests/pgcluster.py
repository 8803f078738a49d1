"""A throwaway PostgreSQL cluster in a temporary folder, for the tests and the benchmark.

Debian's server binaries (``/usr/lib/postgresql/*/bin``) run it: initdb and the server refuse
to run as root, so as root (CI) they run as an unprivileged user (``postgres`` if the package
made it, else ``nobody``) with the data folder owned by that user. The server listens on a free
port of 127.0.0.1 (password auth) and on a unix socket in the folder (trust).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PASSWORD = "s3cret-for-tests"
SUPERUSER = "rfpflow"


def server_bin() -> Path | None:
    """The newest installed server's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, root: Path, port: int, bindir: Path, run_as: list[str]) -> None:
        self.root, self.port, self.bindir, self.run_as = root, port, bindir, run_as

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "rfpflow") -> str:
        """Through the unix socket (trust)."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.root}&port={self.port}"

    def tcp_url(self, database: str = "rfpflow", password: str = PASSWORD) -> str:
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.run_as, *args], capture_output=True, text=True, check=True, timeout=120)

    def create_database(self, name: str) -> str:
        self.run(str(self.bindir / "createdb"), "-h", str(self.root), "-p", str(self.port), "-U", SUPERUSER, name)
        return self.url(name)

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def start(self) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                 "-t", "60", "start")


@contextlib.contextmanager
def cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """Start a cluster; ``durable`` keeps fsync on (the benchmark), else it is off (the tests)."""
    bindir = server_bin()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    root = Path(tempfile.mkdtemp(prefix="rfpflow-pg-", dir="/tmp"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = "nobody"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        run_as = ["runuser", "-u", user, "--"]
    os.chmod(root, 0o755)
    port = _free_port()
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
    if run_as:
        os.chown(pwfile, pwd.getpwnam(run_as[2]).pw_uid, -1)
    made = Cluster(root, port, bindir, run_as)
    try:
        made.run(str(bindir / "initdb"), "-D", str(made.data), "-U", SUPERUSER, "--auth-local=trust",
                 "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        settings = [f"port = {port}", f"unix_socket_directories = '{root}'", "listen_addresses = '127.0.0.1'",
                    "max_connections = 100", "shared_buffers = 64MB"]
        if not durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (made.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(settings) + "\n")
        made.start()
        made.create_database("rfpflow")
        yield made
    finally:
        made.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
