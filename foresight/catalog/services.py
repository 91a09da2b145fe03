"""Writes to the catalog. The curated catalog is loaded from YAML by ``catalog_load``.

Loading is idempotent: an entry is saved only when a field differs, relations are changed only
when they differ, so a second run of ``load_catalog`` writes nothing (no history rows either).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction

from foresight.catalog.models import (
    Area,
    Cluster,
    Direction,
    PublicationStatus,
    SourceProgramme,
    SourceReference,
    Topic,
)

CATALOG_PATH = Path(__file__).resolve().parent / "data" / "catalog.yaml"


@dataclass
class LoadReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values()))

    def summary(self) -> str:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.deleted))
        if not kinds:
            return "no changes"
        parts = [f"{k}: +{self.created[k]} ~{self.updated[k]} -{self.deleted[k]}" for k in kinds]
        return "; ".join(parts)


def yaml_read(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected a mapping at the top level")
    return data


def require_keys(entry: dict[str, Any], keys: list[str], where: str) -> None:
    missing = [k for k in keys if entry.get(k) in (None, "")]
    if missing:
        raise ValidationError(f"{where}: missing {', '.join(missing)}")


def upsert(
    model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any], report: LoadReport, where: str
) -> Any:
    """Create or update one row, saving only when a value differs. Used by every catalog loader."""
    label = model._meta.model_name or model.__name__
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        _clean(obj, where)
        obj.save()
        report.created[label] += 1
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        _clean(obj, where)
        update_fields = list(changed)
        if any(f.name == "updated_at" for f in model._meta.fields):
            update_fields.append("updated_at")
        obj.save(update_fields=update_fields)
        report.updated[label] += 1
    return obj


def _clean(obj: models.Model, where: str) -> None:
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message_dict if hasattr(exc, 'message_dict') else exc.messages}") from exc


def m2m_sync(manager: Any, wanted: Sequence[models.Model], report: LoadReport, label: str) -> None:
    """Set a many-to-many relation only if it differs (so unchanged data writes nothing)."""
    current = {obj.pk for obj in manager.all()}
    if current != {obj.pk for obj in wanted}:
        manager.set(wanted)
        report.updated[label] += 1


def sources_sync(
    *, entry: models.Model, sources: Any, programmes: dict[str, SourceProgramme], report: LoadReport, where: str
) -> None:
    """Make an entry's source references exactly those listed (at least one is required)."""
    if not isinstance(sources, list) or not sources:
        raise ValidationError(f"{where}: every entry needs at least one source")
    ct = ContentType.objects.get_for_model(entry)
    existing = {
        (r.programme_id, r.label): r for r in SourceReference.objects.filter(content_type=ct, object_id=entry.pk)
    }
    keep: set[tuple[int, str]] = set()
    for i, src in enumerate(sources):
        src_where = f"{where} source {i + 1}"
        if not isinstance(src, dict):
            raise ValidationError(f"{src_where}: expected a mapping")
        require_keys(src, ["programme", "label"], src_where)
        programme = programmes.get(str(src["programme"]))
        if programme is None:
            raise ValidationError(f"{src_where}: unknown programme {src['programme']!r}")
        key = (programme.pk, str(src["label"]))
        keep.add(key)
        values = {"locator": str(src.get("locator") or ""), "url": str(src.get("url") or "")}
        ref = existing.get(key)
        if ref is None:
            ref = SourceReference(
                programme=programme, content_type=ct, object_id=entry.pk, label=str(src["label"]), **values
            )
            _clean(ref, src_where)
            ref.save()
            report.created["sourcereference"] += 1
        elif any(getattr(ref, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(ref, k, v)
            _clean(ref, src_where)
            ref.save(update_fields=list(values))
            report.updated["sourcereference"] += 1
    for key, ref in existing.items():
        if key not in keep:
            ref.delete()
            report.deleted["sourcereference"] += 1


def bilingual_values(entry: dict[str, Any], names: list[str], where: str, required: bool = True) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in names:
        for lang in ("en", "zh"):
            key = f"{name}_{lang}"
            value = entry.get(key)
            if required and (value is None or str(value).strip() == ""):
                raise ValidationError(f"{where}: missing {key}")
            values[key] = "" if value is None else str(value).strip()
    return values


@transaction.atomic
def catalog_load(*, data: dict[str, Any], report: LoadReport) -> dict[str, Topic]:
    """Load programmes, clusters, directions, areas and topics; returns topics by code.

    1. programmes and clusters first (entries refer to them);
    2. directions → areas → topics, each with its sources;
    3. topic relations (clusters, secondary areas) once every area exists.
    """
    programmes: dict[str, SourceProgramme] = {}
    for i, p in enumerate(data.get("programmes") or []):
        where = f"programme #{i + 1} ({p.get('code', '?')})"
        require_keys(p, ["code", "year"], where)
        values = {
            **bilingual_values(p, ["name"], where),
            **bilingual_values(p, ["publisher"], where, required=False),
            "country": str(p.get("country") or ""),
            "year": int(p["year"]),
            "url": str(p.get("url") or ""),
        }
        programmes[str(p["code"])] = upsert(
            SourceProgramme, lookup={"code": str(p["code"])}, values=values, report=report, where=where
        )

    clusters: dict[str, Cluster] = {}
    for c in data.get("clusters") or []:
        where = f"cluster {c.get('code', '?')}"
        require_keys(c, ["code", "kind"], where)
        values = {**bilingual_values(c, ["name", "description"], where), "kind": str(c["kind"])}
        cluster = upsert(Cluster, lookup={"code": str(c["code"])}, values=values, report=report, where=where)
        sources_sync(entry=cluster, sources=c.get("sources"), programmes=programmes, report=report, where=where)
        clusters[cluster.code] = cluster

    directions = data.get("directions") or []
    if not directions:
        raise ValidationError("catalog: no directions")
    areas: dict[str, Area] = {}
    topics: dict[str, Topic] = {}
    pending_relations: list[tuple[Topic, dict[str, Any], str]] = []
    for d in directions:
        where = f"direction {d.get('slug', '?')}"
        require_keys(d, ["slug"], where)
        values = {
            **bilingual_values(d, ["name", "description"], where),
            "order": int(d.get("order") or 0),
            "status": str(d.get("status") or PublicationStatus.PUBLISHED),
        }
        direction = upsert(Direction, lookup={"slug": str(d["slug"])}, values=values, report=report, where=where)
        sources_sync(entry=direction, sources=d.get("sources"), programmes=programmes, report=report, where=where)
        for a in d.get("areas") or []:
            where = f"area {a.get('slug', '?')}"
            require_keys(a, ["slug"], where)
            values = {
                **bilingual_values(a, ["name", "description"], where),
                "direction": direction,
                "order": int(a.get("order") or 0),
                "status": str(a.get("status") or PublicationStatus.PUBLISHED),
            }
            area = upsert(Area, lookup={"slug": str(a["slug"])}, values=values, report=report, where=where)
            sources_sync(entry=area, sources=a.get("sources"), programmes=programmes, report=report, where=where)
            areas[area.slug] = area
            for t in a.get("topics") or []:
                where = f"topic {t.get('code', '?')}"
                require_keys(t, ["code", "kind", "status"], where)
                if str(t["code"]) in topics:
                    raise ValidationError(f"{where}: duplicate topic code")
                trl = t.get("trl")
                values = {
                    **bilingual_values(t, ["name", "statement", "description"], where),
                    "area": area,
                    "kind": str(t["kind"]),
                    "trl": int(trl) if trl is not None else None,
                    "status": str(t["status"]),
                    "tags": [str(tag) for tag in (t.get("tags") or [])],
                }
                topic = upsert(Topic, lookup={"code": str(t["code"])}, values=values, report=report, where=where)
                sources_sync(entry=topic, sources=t.get("sources"), programmes=programmes, report=report, where=where)
                topics[topic.code] = topic
                pending_relations.append((topic, t, where))

    for topic, t, where in pending_relations:
        try:
            wanted_clusters = [clusters[str(code)] for code in t.get("clusters") or []]
        except KeyError as exc:
            raise ValidationError(f"{where}: unknown cluster {exc.args[0]!r}") from None
        try:
            wanted_areas = [areas[str(slug)] for slug in t.get("secondary_areas") or []]
        except KeyError as exc:
            raise ValidationError(f"{where}: unknown secondary area {exc.args[0]!r}") from None
        m2m_sync(topic.clusters, wanted_clusters, report, "topic_clusters")
        m2m_sync(topic.secondary_areas, wanted_areas, report, "topic_secondary_areas")
    return topics


def topic_status_set(*, topic: Topic, status: str) -> bool:
    """Move a topic through review (e.g. draft → candidate makes it public). False if it already had that status.

    Used by the admin actions; the change lands in the topic's history with the request's user.
    """
    if status not in Topic.Status.values:
        raise ValidationError({"status": [f"Unknown status {status!r}."]})
    if topic.status == status:
        return False
    topic.status = status
    topic.full_clean()
    topic.save(update_fields=["status", "updated_at"])
    return True
