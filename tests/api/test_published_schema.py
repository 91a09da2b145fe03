"""Every item of every public API list, and every entry of every edition, conforms to the published OpenAPI
schema (/api/schema/), checked item by item with jsonschema — including an edition that replaces none and
one that replaces another.  Schemathesis (test_schemathesis.py) fuzzes the requests; this reads real data."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import Client

from foresight.delphi.models import Study
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities.models import Edition
from scenarios.exchange import pilots
from tests.exchange.pilot_world import build_world, change_of, open_pilot
from tests.priorities.conftest import publish, queued, scored  # noqa: F401  (queued is a fixture)

pytestmark = pytest.mark.django_db

LISTS = {
    "/api/v1/directions/",
    "/api/v1/areas/",
    "/api/v1/topics/",
    "/api/v1/scenarios/",
    "/api/v1/editions/",
    "/api/v1/releases/",
    "/api/v1/pilots/",
}


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema object as JSON Schema (2020-12): ``nullable: true`` becomes "or null", and
    references to ``#/components/schemas/`` point into ``$defs``."""
    if isinstance(node, list):
        return [json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "nullable":
            continue
        if key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key in ("properties", "patternProperties"):
            out[key] = {name: json_schema(child) for name, child in value.items()}
        else:
            out[key] = json_schema(value)
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Schema:
    """The published schema, and a validator for any of its component schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = document["components"]["schemas"]
        self.defs = {name: json_schema(schema) for name, schema in self.components.items()}

    def validator(self, schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator({**json_schema(schema), "$defs": self.defs})

    def response(self, path: str) -> dict[str, Any]:
        operation = self.document["paths"][path]["get"]
        return dict(operation["responses"]["200"]["content"]["application/json"]["schema"])

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema


def problems(validator: jsonschema.Draft202012Validator, document: Any, where: str) -> list[str]:
    return [
        f"{where} at {'/'.join(map(str, error.absolute_path)) or '.'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.fixture
def editions(catalog: dict[str, Any], queued: list[int]) -> dict[str, Edition]:  # noqa: F811
    """Two published editions of one simulated study: the first replaces none, the second replaces it."""
    study = Study.objects.get(code=study_simulate(experts=16, topics=6, seed=3, rounds=1, timeout=120).study)
    run = scored(study)
    first = publish(run, "schema-first", "First edition")
    second = publish(run, "schema-second", "Second edition", replaces=first)
    return {"first": first, "second": second}


def test_every_item_of_every_public_list_and_edition_conforms_to_the_schema(editions: dict[str, Edition]) -> None:
    # A published pilot (its opening verified), so the pilots list has an item.
    pilot_world = build_world()
    pilot = open_pilot(pilot_world)
    pilots.pilot_stage_verify(actor=pilot_world["cora"], change=change_of(pilot, "opened"))
    client = Client()
    schema = Schema(client.get("/api/schema/", {"format": "json"}).json())
    # The public lists are the parameterless GET paths of the API that answer a page of results.
    lists = {
        path
        for path, operations in schema.document["paths"].items()
        if path.startswith("/api/v1/")
        and "{" not in path
        and "get" in operations
        and {"results", "next"} <= set(schema.resolve(schema.response(path)).get("properties", {}))
    }
    assert lists == LISTS

    found: list[str] = []
    items: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(lists):
        page_schema = schema.resolve(schema.response(path))
        page_validator = schema.validator(page_schema)
        item_validator = schema.validator(page_schema["properties"]["results"]["items"])
        items[path] = []
        url: str | None = f"{path}?page_size=200"
        while url:
            page = client.get(url).json()
            found += problems(page_validator, page, url)
            for item in page["results"]:
                found += problems(item_validator, item, f"{path} item {len(items[path])}")
                items[path].append(item)
            url = page["next"]
        assert len(items[path]) == page["count"] > 0, path

    editions_listed = {item["code"]: item for item in items["/api/v1/editions/"]}
    assert editions_listed["schema-first"]["replaces"] is None
    assert editions_listed["schema-second"]["replaces"] == "schema-first"

    detail_validator = schema.validator(schema.response("/api/v1/editions/{code}/"))
    entry_validator = schema.validator(schema.components["Entry"])
    for code in editions_listed:
        document = client.get(f"/api/v1/editions/{code}/").json()
        found += problems(detail_validator, document, code)
        assert document["entries"], code
        for i, entry in enumerate(document["entries"]):
            found += problems(entry_validator, entry, f"{code} entry {i}")
    releases = {item["code"]: item for item in items["/api/v1/releases/"]}
    items_path = "/api/v1/releases/{release_code}/items/"
    items_validator = schema.validator(schema.resolve(schema.response(items_path)))
    for code, release in releases.items():
        page = client.get(release["items_url"]).json()
        found += problems(items_validator, page, f"{code} items")
        assert page["count"] == sum(release["counts"].values()) > 0, code
    assert not found, "\n".join(found[:20])

    # The check can fail: with ``replaces`` declared non-nullable (as it was), the first edition is refused.
    strict = dict(schema.components["EditionList"])
    strict["properties"] = {**strict["properties"], "replaces": {"type": "string", "readOnly": True}}
    assert problems(schema.validator(strict), editions_listed["schema-first"], "strict")


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        ("/api/v1/topics/similar/", ["量子计算机", "green hydrogen", "AI 芯片 chips", "zzzz"]),
        ("/api/v1/scenarios/similar/", ["智慧港口", "robotaxis", "无人 retail", "zzzz"]),
    ],
)
def test_similar_answers_conform_to_the_schema(catalog: dict[str, Any], path: str, texts: list[str]) -> None:
    client = Client()
    schema = Schema(client.get("/api/schema/", {"format": "json"}).json())
    validator = schema.validator(schema.response(path))
    found: list[str] = []
    answered = 0
    for text in texts:
        document = client.get(path, {"text": text, "limit": "50"}).json()
        found += problems(validator, document, text)
        answered += len(document["results"])
    assert answered > 0
    assert not found, "\n".join(found[:20])
    # The check can fail: a score above 1 is refused.
    document["results"] = [{**item, "score": 1.5} for item in document["results"]] or [
        {"code": "x", "name_en": "", "name_zh": "", "title_en": "", "title_zh": "", "score": 1.5, "url": "http://x/"}
    ]
    assert problems(validator, document, "strict")
