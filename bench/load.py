"""The load generator: closed-loop clients in separate processes (no Django in here).

Each client process opens a new connection per request (gunicorn's sync workers close it after
every response, as a browser behind a proxy would see), waits for the answer, and goes on until
its time is up or its requests run out: every run is bounded in time and in request count, and
127.0.0.1 is the only target. Clients of the submit path each use their own source address on the
loopback network (127.x.y.z), as real experts come from many addresses.
"""

from __future__ import annotations

import http.client
import multiprocessing
import re
import time
from collections import Counter
from typing import Any

TARGET = "127.0.0.1"
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Unexpected(Exception):
    pass


def _request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    source_ip: str | None = None,
) -> tuple[int, list[str], bytes, float]:
    conn = http.client.HTTPConnection(TARGET, port, timeout=120, source_address=(source_ip, 0) if source_ip else None)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        return response.status, response.headers.get_all("Set-Cookie") or [], data, elapsed
    finally:
        conn.close()


def _wait(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def get_client(job: dict[str, Any]) -> dict[str, Any]:
    """GET one path again and again until ``duration`` seconds have passed or ``max_requests`` are done."""
    _wait(job["start_at"])
    deadline = job["start_at"] + job["duration"]
    headers = {
        "Host": f"{TARGET}:{job['port']}",
        "Accept": "text/html,application/json",
        "Accept-Language": "en",
        "Accept-Encoding": "gzip",  # as every browser sends it
    }
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    size = 0
    while time.time() < deadline and len(latencies) + sum(errors.values()) < job["max_requests"]:
        try:
            status, _, data, elapsed = _request(job["port"], "GET", job["path"], headers=headers, source_ip=job["ip"])
        except OSError as exc:
            errors[type(exc).__name__] += 1
            continue
        statuses[status] += 1
        if status == 200:
            latencies.append(elapsed)
            size = len(data)
    return {
        "latencies": latencies,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "bytes": size,
        "end": time.time(),
    }


class _Browser:
    """Just enough of a browser for the expert area: cookies, the CSRF token of the page, htmx headers."""

    def __init__(self, port: int, source_ip: str) -> None:
        self.port = port
        self.source_ip = source_ip
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.latencies: dict[str, list[float]] = {}
        self.origin = f"http://{TARGET}:{port}"

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Host": f"{TARGET}:{self.port}", "Accept": "text/html", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def call(
        self, kind: str, method: str, path: str, expect: int, body: str | None = None, htmx: bool = False
    ) -> bytes:
        extra: dict[str, str] = {}
        if body is not None:
            extra = {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin}
        if htmx:
            # What htmx 2 sends with the questionnaire's autosave.
            extra.update(
                {
                    "HX-Request": "true",
                    "HX-Target": "save-result",
                    "HX-Trigger": "answers",
                    "HX-Current-URL": self.origin + path[: -len("save/")],
                }
            )
        status, cookies, data, elapsed = _request(
            self.port,
            method,
            path,
            headers=self._headers(extra),
            body=body.encode() if body is not None else None,
            source_ip=self.source_ip,
        )
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        self.latencies.setdefault(kind, []).append(elapsed)
        if status != expect:
            raise Unexpected(f"{method} {path.split('?')[0]} answered {status}, expected {expect}")
        match = CSRF_INPUT.search(data)
        if match:
            self.token = match.group(1).decode()
        return data


def _product_ballot(port: int, study: str, number: int, ballot: dict[str, Any]) -> dict[str, list[float]]:
    b = _Browser(port, ballot["source_ip"])
    home = f"/delphi/{study}/"
    b.call("link_page", "GET", f"{home}join/?t={ballot['token']}", 200)
    b.call("redeem", "POST", f"{home}join/", 302, body=f"csrfmiddlewaretoken={b.token}&t={ballot['token']}")
    b.call("page", "GET", home, 200)
    b.call("consent", "POST", f"{home}consent/", 302, body=f"csrfmiddlewaretoken={b.token}&agree=yes")
    b.call("page", "GET", home, 200)
    for code, _, form in ballot["topics"]:
        page = f"{home}round/{number}/{code}/"
        b.call("topic_page", "GET", page, 200)
        b.call("save", "POST", f"{page}save/", 200, body=f"csrfmiddlewaretoken={b.token}&{form}", htmx=True)
    b.call("submit", "POST", f"{home}round/{number}/submit/", 302, body=f"csrfmiddlewaretoken={b.token}")
    b.call("page", "GET", home, 200)
    return b.latencies


def _baseline_ballot(port: int, round_id: int, ballot: dict[str, Any]) -> dict[str, list[float]]:
    b = _Browser(port, ballot["source_ip"])
    for _, topic_id, form in ballot["topics"]:
        b.call("save", "POST", f"/bench/upsert/{round_id}/{ballot['participant']}/{topic_id}/", 204, body=form)
    return b.latencies


def ballot_client(job: dict[str, Any]) -> dict[str, Any]:
    """Complete ballots one after another until ``duration`` seconds have passed or the ballots run out."""
    _wait(job["start_at"])
    deadline = job["start_at"] + job["duration"]
    done: list[dict[str, Any]] = []
    failed: list[str] = []
    for ballot in job["ballots"]:
        if time.time() >= deadline:
            break
        started = time.perf_counter()
        try:
            if job["kind"] == "product":
                latencies = _product_ballot(job["port"], job["study"], job["number"], ballot)
            else:
                latencies = _baseline_ballot(job["port"], job["round_id"], ballot)
        except (Unexpected, OSError) as exc:
            failed.append(str(exc))
            continue
        done.append(
            {"participant": ballot["participant"], "seconds": time.perf_counter() - started, "latencies": latencies}
        )
    return {"done": done, "failed": failed, "end": time.time()}


def run(target: Any, jobs: list[dict[str, Any]], *, start_in: float = 1.5) -> tuple[list[dict[str, Any]], float]:
    """Run one job per client process, all starting together; returns the results and the start time."""
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + start_in
    for job in jobs:
        job["start_at"] = start_at
    with ctx.Pool(len(jobs)) as pool:
        results = pool.map(target, jobs)
    return results, start_at


def percentile(values: list[float], p: float) -> float | None:
    """Type-7 percentile (as numpy's default); ``None`` for no values."""
    if not values:
        return None
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = int(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (h - lo)
