"""A private Foresight stack for tests that break things: its own PostgreSQL and Redis on spare local
ports, and its own worker, beat and gunicorn processes, so a fault injected here disturbs nothing else.

Everything runs as subprocesses driven through their real interfaces: HTTP for the site,
``manage.py`` for staff actions, SQL for checking what is stored.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the thing is not up yet
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last})")


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the postgres user when the suite runs as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._ping, f"redis on port {self.port}")

    def _ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def pause(self) -> None:
        """Hang it: connections are still accepted (by the kernel) but nothing is ever answered."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server must run to exit
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


class Postgres:
    def __init__(self, workdir: Path) -> None:
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not versions:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        self.bin = Path(versions[-1])
        self.port = free_port()
        # Its own directory outside pytest's private tmp (which the postgres user cannot enter).
        self.home = Path(tempfile.mkdtemp(prefix="foresight-faults-pg-"))
        self.data = self.home / "data"
        self.sockets = self.home / "sockets"
        self.log = workdir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: str = "foresight") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def init(self) -> None:
        self.data.mkdir(parents=True)
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            for path in (self.home, self.data, self.sockets):
                shutil.chown(path, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        log = self.log.open("ab")  # written by this process, so root-owned is fine
        self.proc = subprocess.Popen(
            _as_postgres(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "synchronous_commit=off",
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self.connect("postgres").close() or True, f"postgres on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            # Fast shutdown: open connections are cut, as in a crash of the database server.
            subprocess.run(
                _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                check=True,
                capture_output=True,
                timeout=60,
            )
            self.proc.wait(timeout=30)
            self.proc = None

    def blocked_on(self, table: str) -> int:
        """How many sessions are waiting for a row lock on ``table`` right now."""
        rows = self.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%{table}%"],
        )
        return int(rows[0][0])

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def connect(self, db: str = "foresight", autocommit: bool = True) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=db, autocommit=autocommit, connect_timeout=3
        )

    def sql(self, query: str, params: Any = None, db: str = "foresight") -> list[tuple[Any, ...]]:
        with self.connect(db) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []


class Stack:
    """PostgreSQL + Redis + the product's processes, all private to one test module."""

    def __init__(self, workdir: Path, **settings: str) -> None:
        self.workdir = workdir
        self.pg = Postgres(workdir)
        self.redis = Redis(workdir)
        self.queue = "faults"
        self.settings = settings
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.web_port = free_port()

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH"}}
        env.update(
            {
                "DATABASE_URL": self.pg.url(),
                "REDIS_URL": self.redis.url,
                "CELERY_QUEUE": self.queue,
                "DJANGO_SETTINGS_MODULE": "foresight.settings",
                "DB_CONN_MAX_AGE": "60",
                "PYTHONUNBUFFERED": "1",
                **self.settings,
            }
        )
        return env

    def start(self) -> None:
        self.pg.init()
        self.pg.start()
        self.pg.sql("CREATE DATABASE foresight", db="postgres")
        self.redis.start()
        self.manage("migrate", "-v0")
        self.manage("load_catalog", "-v0")

    def close(self) -> None:
        for name in list(self.procs):
            self.kill(name)
        self.redis.stop()
        self.pg.stop()
        self.pg.remove()

    # --- commands -------------------------------------------------------------------------------

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def shell(self, code: str, env: dict[str, str] | None = None) -> Any:
        """Run Python in the product's Django context; the code prints one JSON line last."""
        out = self.manage("shell", "-c", code, env=env)
        return json.loads(out.strip().splitlines()[-1])

    # --- processes ------------------------------------------------------------------------------

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        path = self.workdir / f"{name}.log"
        before = path.read_text(errors="replace").count(" ready.") if path.exists() else 0
        proc = self._spawn(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "foresight",
                "worker",
                "-Q",
                self.queue,
                "-c",
                "1",
                "--loglevel",
                "INFO",
                "-n",
                f"{name}-{self.web_port}@%h",
            ],
        )
        # Counted over the whole log (``log`` returns only its tail, where an earlier " ready." may have scrolled out).
        wait_for(
            lambda: path.read_text(errors="replace").count(" ready.") > before or proc.poll() is not None,
            f"{name} ready",
            60,
        )
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited: {self.log(name)}")
        return proc

    def start_beat(self) -> subprocess.Popen[bytes]:
        schedule = self.workdir / "beat-schedule"
        return self._spawn(
            "beat", [str(BIN / "celery"), "-A", "foresight", "beat", "-s", str(schedule), "--loglevel", "INFO"]
        )

    def start_web(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "foresight.wsgi",
                "-b",
                f"127.0.0.1:{self.web_port}",
                "-w",
                "1",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
        )
        wait_for(lambda: self.get("/health/")[0] in (200, 503), "gunicorn", 60)
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def children(self, name: str) -> list[int]:
        """The pool processes of a worker (its direct children)."""
        pid = self.procs[name].pid
        found = []
        for status in glob.glob("/proc/[0-9]*/status"):
            try:
                text = Path(status).read_text()
            except OSError:
                continue
            ppid = next((line.split()[1] for line in text.splitlines() if line.startswith("PPid:")), "")
            if ppid == str(pid):
                found.append(int(status.split("/")[2]))
        return found

    # --- HTTP -----------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=20) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
