"""The curated catalog: counts, both languages, sources on every entry, idempotent loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import Count

from foresight.catalog.models import Area, Cluster, Direction, SourceProgramme, SourceReference, Topic
from foresight.catalog.services import CATALOG_PATH
from scenarios.models import Scenario, ScenarioTopic

pytestmark = pytest.mark.django_db


def _snapshot() -> dict[str, list[tuple[object, ...]]]:
    """Every row of every catalog and scenario table, history included."""
    snap: dict[str, list[tuple[object, ...]]] = {}
    for label in ("catalog", "scenarios"):
        for model in apps.get_app_config(label).get_models():
            fields = [f.attname for f in model._meta.concrete_fields]
            snap[model._meta.label] = sorted(map(tuple, model.objects.values_list(*fields)), key=repr)
    return snap


def test_catalog_meets_the_published_minimums(catalog: dict[str, int]) -> None:
    assert Direction.objects.count() >= 6
    assert set(Direction.objects.values_list("slug", flat=True)) >= {
        "future-manufacturing",
        "future-information",
        "future-materials",
        "future-energy",
        "future-space",
        "future-health",
    }
    assert Area.objects.count() >= 20
    assert Topic.objects.count() >= 60
    assert Scenario.objects.count() >= 20
    assert ScenarioTopic.objects.count() >= 80
    assert Cluster.objects.filter(code="fyp14-frontier").exists()
    assert Cluster.objects.filter(code="miit24-iconic-products").exists()


def test_every_entry_is_bilingual(catalog: dict[str, int]) -> None:
    checks = {
        Direction: ["name", "description"],
        Area: ["name", "description"],
        Topic: ["name", "statement", "description"],
        Cluster: ["name", "description"],
        Scenario: ["title", "summary", "problem", "requirements"],
        SourceProgramme: ["name"],
    }
    for model, names in checks.items():
        for obj in model.objects.all():
            for name in names:
                assert getattr(obj, f"{name}_en").strip(), f"{model.__name__} {obj} lacks {name}_en"
                zh = getattr(obj, f"{name}_zh").strip()
                assert zh, f"{model.__name__} {obj} lacks {name}_zh"
                assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{model.__name__} {obj} {name}_zh is not Chinese"


def test_every_statement_is_one_sentence(catalog: dict[str, int]) -> None:
    for topic in Topic.objects.all():
        stripped = topic.statement_en.strip()
        assert stripped.endswith("."), topic.code
        assert stripped[:-1].count(". ") == 0, f"{topic.code} statement has more than one sentence"


def test_every_entry_has_a_source_with_an_original_label(catalog: dict[str, int]) -> None:
    for model in (Direction, Area, Topic, Cluster, Scenario):
        missing = model.objects.annotate(n=Count("sources")).filter(n=0)
        assert not missing.exists(), f"{model.__name__} without sources: {list(missing)}"
    assert not SourceReference.objects.filter(label="").exists()


def test_scenario_links_use_valid_roles(catalog: dict[str, int]) -> None:
    roles = set(ScenarioTopic.objects.values_list("role", flat=True))
    assert roles <= {"core", "enabling", "complementary"}
    assert "core" in roles
    assert ScenarioTopic.objects.filter(
        scenario__code="smart-factory", topic__code="humanoid-robots", role="core"
    ).exists()


def test_loading_twice_changes_nothing(catalog: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot()
    call_command("load_catalog")
    assert "no changes" in capsys.readouterr().out
    assert _snapshot() == before


def test_a_changed_entry_is_updated_and_its_history_kept(catalog: dict[str, int], tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    topic = data["directions"][0]["areas"][0]["topics"][0]
    topic["statement_en"] = "A revised statement is in routine use."
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    history_before = Topic.history.filter(code=topic["code"]).count()

    call_command("load_catalog", catalog=changed, verbosity=0)

    assert Topic.objects.get(code=topic["code"]).statement_en == "A revised statement is in routine use."
    assert Topic.history.filter(code=topic["code"]).count() == history_before + 1


def test_a_bad_file_is_refused_and_changes_nothing(catalog: dict[str, int], tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    data["directions"][0]["areas"][0]["topics"][0]["statement_en"] = "Changed before the error."
    data["directions"][-1]["areas"][-1]["topics"][-1]["sources"] = []
    bad = tmp_path / "catalog.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = _snapshot()

    with pytest.raises(CommandError, match="at least one source"):
        call_command("load_catalog", catalog=bad, verbosity=0)

    assert _snapshot() == before


def test_unparseable_yaml_gets_a_clear_error(db: None, tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("directions: [unclosed", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read YAML"):
        call_command("load_catalog", catalog=bad, verbosity=0)
    assert not Direction.objects.exists()
