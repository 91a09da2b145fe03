"""The server processes under test: a Celery worker and gunicorn, started and stopped by the harness.

Memory is read from ``/proc``: ``VmHWM`` is the peak resident set of a process, and writing ``5``
to its ``clear_refs`` resets that peak, so one worker can report the peak of each task separately.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.env import ROOT


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it; nothing fixed that others may use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        match = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def peak_mb(pid: int) -> float:
    return _status_kb(pid, "VmHWM") / 1024


def peak_reset(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class CeleryWorker:
    """``celery -A foresight worker --pool solo``: the task runs in the worker process itself."""

    def __init__(self, *, environ: dict[str, str], queue: str, log: Path) -> None:
        self.environ = environ
        self.queue = queue
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.name = f"{queue}@{socket.gethostname()}"

    def start(self, timeout: float = 90) -> None:
        # Here, not at the top: the Celery app reads Django's settings, which are the bench's only once
        # BenchEnv.django_setup has run (this module is imported before it).
        from foresight.celery import app

        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "foresight", "worker", "--pool", "solo", "-Q", self.queue]
                + ["-n", self.name, "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
                cwd=ROOT,
                env=self.environ,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}; see {self.log}")
            if app.control.ping(destination=[self.name], timeout=1.0):
                return
        raise RuntimeError(f"celery worker did not answer within {timeout:.0f} s; see {self.log}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def task_runtimes(self) -> list[float]:
        """Runtimes the worker logged for ``delphi.round_aggregate`` ("succeeded in 1.23s")."""
        text = self.log.read_text(errors="replace")
        return [float(m) for m in re.findall(r"delphi\.round_aggregate\[[^\]]+\] succeeded in ([0-9.]+)s", text)]

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def restart(self) -> None:
        """Kill the worker (a solo worker finishes its task before a warm shutdown) and start a new one."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.start()


class Gunicorn:
    """``gunicorn foresight.wsgi`` with bench settings: the same server for product and baselines."""

    def __init__(self, *, environ: dict[str, str], log: Path, workers: int = 2, threads: int = 1) -> None:
        self.environ = environ
        self.log = log
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> str:
        return (
            f"gunicorn foresight.wsgi --workers {self.workers} --threads {self.threads} "
            f"--bind 127.0.0.1:<free port>  (DJANGO_SETTINGS_MODULE=bench.settings, DJANGO_DEBUG=0)"
        )

    def start(self, timeout: float = 60) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "foresight.wsgi:application"]
                + ["--workers", str(self.workers), "--threads", str(self.threads)]
                + ["--bind", f"127.0.0.1:{self.port}", "--backlog", "2048", "--timeout", "120"],
                cwd=ROOT,
                env=self.environ,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/bench/constant/")
                if conn.getresponse().status == 200:
                    conn.close()
                    # Every worker imports lazily: warm them all up before anything is measured.
                    for _ in range(4 * self.workers):
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                        conn.request("GET", "/health/")
                        conn.getresponse().read()
                        conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log}")

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as fh:
                return [int(p) for p in fh.read().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


def load_average() -> float:
    return os.getloadavg()[0]
