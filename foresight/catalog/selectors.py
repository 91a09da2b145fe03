"""Reads of the public catalog. Each selector returns everything its page needs in a fixed number of queries."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Count, FloatField, Max, Prefetch, Q, QuerySet, Sum, Value, When
from django.http import Http404

from foresight.catalog.models import Area, Cluster, Direction, PublicationStatus, SourceReference, Topic, public_topic_q
from foresight.core import similarity
from foresight.core.text import clean_text

MAX_QUERY_LENGTH = 200


def clean_param(value: str, limit: int = MAX_QUERY_LENGTH) -> str:
    """A user-typed filter value made safe for any database: no NUL characters, bounded length (cut, not refused)."""
    return clean_text(value)[:limit]


class CleanedFilters:
    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]  # a mixin of frozen dataclasses
            object.__setattr__(self, field.name, clean_param(str(getattr(self, field.name) or "")))


@dataclass(frozen=True)
class TopicFilters(CleanedFilters):
    """Validated filters of the topic list by what the catalog knows (the public layer adds the scenario
    setting: see foresight.public.selectors.PublicTopicFilters)."""

    q: str = ""
    direction: str = ""
    area: str = ""
    kind: str = ""
    status: str = ""
    cluster: str = ""


def _public_topics() -> QuerySet[Topic]:
    return Topic.objects.public()


def _sources_prefetch(prefix: str = "") -> Prefetch:
    return Prefetch(f"{prefix}sources", queryset=SourceReference.objects.select_related("programme"))


def direction_list() -> QuerySet[Direction]:
    """Published directions with their published areas and the count of public topics in each."""
    areas = (
        Area.objects.filter(status=PublicationStatus.PUBLISHED)
        .annotate(topic_count=Count("topics", filter=public_topic_q("topics__")))
        .order_by("order", "slug")
    )
    return (
        Direction.objects.filter(status=PublicationStatus.PUBLISHED)
        .annotate(topic_count=Count("areas__topics", filter=public_topic_q("areas__topics__")))
        .prefetch_related(Prefetch("areas", queryset=areas))
        .order_by("order", "slug")  # a GROUP BY query does not take Meta.ordering
    )


def direction_options() -> QuerySet[Direction]:
    """Published directions, for filter choices (one plain query)."""
    return Direction.objects.filter(status=PublicationStatus.PUBLISHED).order_by("order", "slug")


def direction_get(*, slug: str) -> Direction:
    areas = Area.objects.filter(status=PublicationStatus.PUBLISHED).prefetch_related(
        Prefetch("topics", queryset=Topic.objects.public().order_by("code"))
    )
    direction = (
        Direction.objects.filter(slug=slug, status=PublicationStatus.PUBLISHED)
        .prefetch_related(Prefetch("areas", queryset=areas), _sources_prefetch())
        .first()
    )
    if direction is None:
        raise Http404("No such direction")
    return direction


def area_get(*, slug: str) -> Area:
    area = (
        Area.objects.public()
        .filter(slug=slug)
        .select_related("direction")
        .prefetch_related(
            Prefetch("topics", queryset=Topic.objects.public().order_by("code")),
            _sources_prefetch(),
        )
        .first()
    )
    if area is None:
        raise Http404("No such area")
    return area


def area_list() -> QuerySet[Area]:
    return Area.objects.public().select_related("direction")


def cluster_list() -> QuerySet[Cluster]:
    return Cluster.objects.all()


def _search(qs: QuerySet[Topic], q: str) -> QuerySet[Topic]:
    """Full-text search with ranking on PostgreSQL, word-wise substring search elsewhere.

    Chinese has no spaces for a text-search parser to split on, so on PostgreSQL the Chinese
    fields are matched as substrings and a hit in a name ranks above a hit in the statement.
    """
    q = q.strip()[:MAX_QUERY_LENGTH]
    if not q:
        return qs
    words = [w for w in re.split(r"\s+", q) if w]
    substring = Q()
    for word in words:
        substring &= (
            Q(name_en__icontains=word)
            | Q(name_zh__icontains=word)
            | Q(statement_en__icontains=word)
            | Q(statement_zh__icontains=word)
            | Q(description_en__icontains=word)
            | Q(description_zh__icontains=word)
            | Q(code__icontains=word)
        )
    name_hit = Q()
    for word in words:
        name_hit &= Q(name_en__icontains=word) | Q(name_zh__icontains=word)
    name_boost = Case(When(name_hit, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("name_en", weight="A", config="english")
            + SearchVector("statement_en", weight="B", config="english")
            + SearchVector("description_en", weight="C", config="english")
        )
        query = SearchQuery(q, config="english", search_type="websearch")
        return (
            qs.annotate(search=vector, rank=SearchRank(vector, query) + name_boost)
            .filter(Q(search=query) | substring)
            .order_by("-rank", "code")
        )
    return qs.filter(substring).annotate(rank=name_boost).order_by("-rank", "code")


def topic_list(*, filters: TopicFilters) -> QuerySet[Topic]:
    """Public topics matching the filters, with what a list row shows (direction, area) joined in."""
    qs = _public_topics().select_related("area__direction")
    if filters.direction:
        qs = qs.filter(area__direction__slug=filters.direction)
    if filters.area:
        qs = qs.filter(area__slug=filters.area)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.cluster:
        qs = qs.filter(clusters__code=filters.cluster).distinct()
    if filters.q:
        return _search(qs, filters.q)
    return qs.order_by("area__direction__order", "area__order", "code")


def topic_get(*, code: str) -> Topic:
    """A public topic with its direction, area, sources, clusters and published secondary areas."""
    topic = (
        _public_topics()
        .filter(code=code)
        .select_related("area__direction")
        .prefetch_related(
            _sources_prefetch(),
            "clusters",
            Prefetch("secondary_areas", queryset=Area.objects.public()),
        )
        .first()
    )
    if topic is None:
        raise Http404("No such topic")
    return topic


# --- Similar topics (the similarity service, foresight.core.similarity) ---------------------------

TOPIC_CORPUS = "topics"
# A topic's text for the similarity service: every field that says what it is, in both languages.
TOPIC_TEXT_FIELDS = ("name_en", "name_zh", "statement_en", "statement_zh", "description_en", "description_zh")


def topic_similarity_documents() -> list[tuple[str, str]]:
    """Every public topic as ``(code, text)``: its names, statements and descriptions joined (one query)."""
    rows = _public_topics().order_by().values_list("code", *TOPIC_TEXT_FIELDS)
    return [(code, "\n".join(text for text in texts if text)) for code, *texts in rows]


def topic_similarity_version() -> tuple[int, int, str]:
    """The version of the public topics' texts, in one aggregate query: how many, the sum of their ids and
    the latest ``updated_at``. A topic published, made draft or deleted changes the count and the sum (so
    does an area or a direction published or made draft, which takes its topics along); an edit through
    ``save()`` moves ``updated_at``. Not seen: a text changed by a bulk ``update()``, which the product never
    does to topics (it would also leave no history)."""
    row = _public_topics().order_by().aggregate(n=Count("pk"), ids=Sum("pk"), updated=Max("updated_at"))
    return (row["n"], row["ids"] or 0, str(row["updated"]))


def topic_similar(*, text: str, limit: int) -> list[tuple[Topic, float]]:
    """The public topics most similar to ``text``, best first, with their scores: the similarity service's
    ranking, then the topics in one query (two queries in all once the index is built)."""
    matches = similarity.corpus_search(TOPIC_CORPUS, text, limit=limit)
    topics = _public_topics().only("code", "name_en", "name_zh").in_bulk([m.code for m in matches], field_name="code")
    # A topic made private since the index was read is left out.
    return [(topics[m.code], m.score) for m in matches if m.code in topics]
