"""An anonymous crawler walks every public page, download and API response of a simulated national
study with a published edition, in both languages, and finds no expert identity, pseudonym or single
answer, and nothing from a draft or an unpublished study (SPEC §8)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from foresight.catalog.models import PublicationStatus, Topic
from foresight.delphi.models import Answer, Argument, Expert, Participant, Response, Round, Study
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities.models import Edition
from foresight.priorities.services.editions import edition_draft_create
from scenarios.models import Scenario
from tests.factories import ScenarioFactory, TopicFactory

pytestmark = pytest.mark.django_db

SITE = "testserver"
START = ("/", "/zh-hans/", "/api/v1/", "/api/schema/")
# Static files, the admin and the interactive API docs (a static shell that loads /api/schema/) hold no data.
SKIP = ("/static/", "/admin/", "/api/docs/")
LINK = re.compile(r"""(?:href|hx-get|action)\s*=\s*["']([^"']*)["']""")
COUNT_KEYS = ("n", "n_high", "n_years", "n_paired")
MIN_SECRET = 6  # shorter strings would match ordinary text by chance


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    content_type: str
    body: str


def _same_site(base: str, link: str) -> str | None:
    link = html.unescape(link.strip())
    if not link or link.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(urljoin("http://" + SITE + base, link))
    if parts.scheme not in ("http", "https") or parts.netloc != SITE:
        return None
    if parts.path.startswith(SKIP):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _json_strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _json_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _json_strings(value)
    elif isinstance(node, str):
        yield node


def crawl(client: Client, start: Iterable[str], *, limit: int = 3000) -> dict[str, Page]:
    """Breadth-first walk of the public site from ``start`` as ``client`` (anonymous), at most ``limit`` URLs.

    Follows every same-site ``href``, ``hx-get`` and form ``action`` of HTML pages, redirects, every
    URL-valued string of JSON responses (``url``, ``next``, the API root), every parameterless path
    of the OpenAPI schema (``/api/schema/``), and each ``/api/v1/<list>/{lookup}/`` detail for every
    item of the matching list, its ``lookup`` read from the item.  Returns each fetched URL's status,
    content type and body.

    It needs nothing of the data but what it finds: point it at a database made by
    ``manage.py simulate_study --publish`` (a finished study with a published edition) plus whatever
    drafts should stay hidden, and check the bodies with ``private_strings`` (what must never appear).
    """
    queue: deque[str] = deque()
    seen: set[str] = set()
    templates: list[tuple[str, str]] = []  # (list path, lookup parameter) of /api/v1/<list>/{param}/

    def push(url: str | None) -> None:
        if url and url not in seen:
            seen.add(url)
            queue.append(url)

    for url in start:
        push(url)
    pages: dict[str, Page] = {}
    while queue and len(pages) < limit:
        url = queue.popleft()
        response = client.get(url)
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
        pages[url] = Page(url=url, status=response.status_code, content_type=content_type, body=body)
        if response.status_code in (301, 302, 303, 307, 308):
            push(_same_site(url, response["Location"]))
            continue
        if response.status_code >= 400:
            continue
        path = urlsplit(url).path
        if path == "/api/schema/":
            schema = yaml.safe_load(body)
            for template in schema.get("paths", {}):
                found = re.fullmatch(r"(/api/v1/.+/)\{(\w+)\}/", template)
                if "{" not in template:
                    push(template)
                elif found and "{" not in found.group(1):
                    templates.append((found.group(1), found.group(2)))
            continue
        if "json" in content_type:
            document = json.loads(body)
            for value in _json_strings(document):
                if value.startswith(("/", "http://", "https://")):
                    push(_same_site(url, value))
            items = document.get("results") if isinstance(document, dict) else None
            if isinstance(items, list):
                for list_path, param in templates:
                    if list_path == path:
                        for item in items:
                            if isinstance(item, dict) and item.get(param) is not None:
                                push(f"{list_path}{quote(str(item[param]))}/")
            continue
        if "html" in content_type:
            for link in LINK.findall(body):
                push(_same_site(url, link))
    return pages


def private_strings() -> dict[str, str]:
    """Every string the public must never see, read from the database: expert identities and
    pseudonyms, free-text answers, rationales and arguments, drafts (editions, topics, scenarios) and
    studies without a published edition.  Maps the string to what it is (for the failure message)."""
    secret: dict[str, str] = {}

    def add(value: str | None, what: str) -> None:
        value = (value or "").strip()
        if len(value) >= MIN_SECRET:
            secret[value] = what

    for email, name, organisation in Expert.objects.values_list("email", "name", "organisation"):
        add(email, "expert e-mail")
        add(name, "expert name")
        add(organisation, "expert organisation")
    for pseudonym in Participant.objects.values_list("pseudonym", flat=True):
        add(pseudonym, "pseudonym")
    for text in Response.objects.exclude(rationale="").values_list("rationale", flat=True):
        add(text, "answer rationale")
    for text in Answer.objects.exclude(value_text="").values_list("value_text", flat=True):
        add(text, "free-text answer")
    for text in Argument.objects.values_list("text", flat=True):
        add(text, "argument")
    for code, title_en, title_zh in Edition.objects.exclude(status=Edition.Status.PUBLISHED).values_list(
        "code", "title_en", "title_zh"
    ):
        add(code, "draft edition code")
        add(title_en, "draft edition title")
        add(title_zh, "draft edition title")
    for code, name_en, name_zh in Topic.objects.exclude(status__in=Topic.PUBLIC_STATUSES).values_list(
        "code", "name_en", "name_zh"
    ):
        add(code, "draft topic code")
        add(name_en, "draft topic name")
        add(name_zh, "draft topic name")
    for code, title_en, title_zh in Scenario.objects.exclude(status=PublicationStatus.PUBLISHED).values_list(
        "code", "title_en", "title_zh"
    ):
        add(code, "draft scenario code")
        add(title_en, "draft scenario title")
        add(title_zh, "draft scenario title")
    published = Edition.objects.filter(status=Edition.Status.PUBLISHED).values("study_id")
    for title_en, title_zh in Study.objects.exclude(pk__in=published).values_list("title_en", "title_zh"):
        add(title_en, "unpublished study")
        add(title_zh, "unpublished study")
    return secret


def leaks(pages: dict[str, Page], secret: dict[str, str]) -> list[str]:
    found = []
    for page in pages.values():
        for value, what in secret.items():
            variants = {value, html.escape(value), html.escape(value, quote=False), json.dumps(value)[1:-1]}
            if any(v in page.body for v in variants):
                found.append(f"{page.url}: {what} {value!r}")
    return found


def small_counts(node: Any, k: int, path: str = "data") -> Iterator[str]:
    """Every count below k (and every figure shown next to one) in published aggregates."""
    if isinstance(node, dict):
        for key in COUNT_KEYS:
            value = node.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value < k:
                yield f"{path}.{key} = {value}"
        for key, value in node.items():
            yield from small_counts(value, k, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from small_counts(value, k, f"{path}[{i}]")


# --- the data: a simulated national study, published, with drafts beside it ----------------------


@pytest.fixture
def published_study(catalog: dict[str, Any], queued: list[int]) -> Edition:
    """What ``simulate_study --experts 80 --topics 8 --seed 7 --rounds 2 --publish`` makes (run here as
    the command), plus what must stay hidden next to it: a draft correction of the edition, a draft topic and
    scenario, experts' organisations, answer rationales, arguments, and a second study that was
    never published."""
    out = io.StringIO()
    call_command(
        "simulate_study", "--experts", "80", "--topics", "8", "--seed", "7", "--rounds", "2", "--publish", stdout=out
    )
    made = json.loads(out.getvalue().strip().splitlines()[-1])
    study = Study.objects.get(code=made["study"])
    edition = Edition.objects.get(code=made["edition"], status=Edition.Status.PUBLISHED)
    run = edition.scoring_run
    edition_draft_create(run=run, code="draft-correction-zq7", title_en="Draft correction zq7", replaces=edition)

    # Rounds are closed, so the expert services refuse new text: the planted secrets are written directly.
    final = Round.objects.get(study=study, number=2)
    responses = list(Response.objects.filter(round__study=study).select_related("participant", "topic")[:12])
    for i, response in enumerate(responses):
        Response.objects.filter(pk=response.pk).update(rationale=f"My private reasoning zq{i} on this topic")
    for i, response in enumerate(responses[:6]):
        Argument.objects.create(
            round=final,
            topic=response.topic,
            participant=response.participant,
            stance=Argument.Stance.PRO if i % 2 else Argument.Stance.CONTRA,
            text=f"An argument only the panel may read zq{i}",
            status=Argument.Status.APPROVED if i % 2 else Argument.Status.PENDING,
        )
    for i, expert in enumerate(Expert.objects.order_by("pk")[:10]):
        Expert.objects.filter(pk=expert.pk).update(organisation=f"Institute of Hidden Affiliation {i}")
    area = Topic.objects.filter(status__in=Topic.PUBLIC_STATUSES).first().area
    TopicFactory(
        area=area, code="secret-draft-topic", name_en="Confidential draft topic", name_zh="保密草稿课题", status="draft"
    )
    ScenarioFactory(
        code="secret-draft-scenario", title_en="Confidential draft scenario", title_zh="保密草稿场景", status="draft"
    )
    study_simulate(experts=12, topics=3, seed=8, rounds=1, timeout=300)  # never scored nor published
    return edition


@pytest.mark.sweep
def test_an_anonymous_crawler_finds_no_identity_answer_or_draft(published_study: Edition) -> None:
    edition = published_study
    study = edition.study
    pages = crawl(Client(), START, limit=3000)
    assert len(pages) < 3000, "the crawl was cut short: raise the limit or find the link explosion"

    # It really walked the public side: pages in both languages, the edition, its downloads, the API.
    topic = edition.entries.select_related("topic").first().topic
    for url in (
        "/editions/",
        f"/editions/{edition.code}/",
        f"/zh-hans/editions/{edition.code}/",
        f"/editions/{edition.code}/entries.csv",
        f"/editions/{edition.code}/edition.json",
        f"/topics/{topic.code}/",
        f"/zh-hans/topics/{topic.code}/",
        "/api/v1/editions/",
        f"/api/v1/editions/{edition.code}/",
        f"/api/v1/topics/{topic.code}/",
        "/api/schema/",
    ):
        assert url in pages, f"the crawler never reached {url}"
        assert pages[url].status == 200, (url, pages[url].status)
    assert sum(1 for p in pages.values() if p.url.startswith("/zh-hans/")) > 20
    # The Build-Your-Own-Radar file is linked only when the edition's topics fill BYOR's four quadrants
    # (this small edition may leave one empty, and then the URL answers 409): fetched here either way,
    # so that what it answers is checked for leaks with the rest.
    for url in (f"/editions/{edition.code}/radar.csv", f"/zh-hans/editions/{edition.code}/radar.csv"):
        if url not in pages:
            response = Client().get(url)
            pages[url] = Page(url, response.status_code, response["Content-Type"], response.content.decode())
        assert pages[url].status in (200, 409), (url, pages[url].status)

    # Nothing answers 500.
    errors = [f"{p.url}: {p.status}" for p in pages.values() if p.status >= 500]
    assert not errors, errors

    # No identity, pseudonym, answer text, argument, draft or unpublished study anywhere.
    secret = private_strings()
    assert {"pseudonym", "expert e-mail", "answer rationale", "argument", "draft edition code"} <= set(secret.values())
    assert "Confidential draft topic" in secret and "draft-correction-zq7" in secret
    found = leaks(pages, secret)
    assert not found, "\n".join(found[:20])

    # Every published group has at least k + 1 respondents (k others besides any one reader who answered):
    # in the API, in the JSON download and in the CSV.
    k = study.k_threshold
    t = k + 1
    for url in (f"/api/v1/editions/{edition.code}/", f"/editions/{edition.code}/edition.json"):
        document = json.loads(pages[url].body)
        assert document["method"]["k_threshold"] == k
        assert document["entries"], url
        small = [s for entry in document["entries"] for s in small_counts(entry["data"], t)]
        assert not small, (url, small)
    # ... and in what the edition stores as its published aggregates.
    stored = [s for entry in edition.entries.all() for s in small_counts(entry.data, t, f"entry {entry.pk}")]
    assert not stored, stored
    rows = list(csv.DictReader(io.StringIO(pages[f"/editions/{edition.code}/entries.csv"].body)))
    assert rows and all(row["n"] == "" or int(row["n"]) >= t for row in rows)
    assert any(row["n"] == "" for row in rows) or all(e.data["n"] is not None for e in edition.entries.all())
