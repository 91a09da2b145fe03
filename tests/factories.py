"""factory_boy factories, and a generator for large catalogs (query-count tests)."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from foresight.catalog.models import (
    Area,
    Cluster,
    Direction,
    PublicationStatus,
    SourceProgramme,
    SourceReference,
    Topic,
)
from foresight.core.roles import ROLES, roles_sync
from scenarios.models import Scenario, ScenarioTopic


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceProgramme
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"prog{n}")
    name_en = factory.Sequence(lambda n: f"Programme {n}")
    name_zh = factory.Sequence(lambda n: f"计划{n}")
    year = 2024


class DirectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Direction

    slug = factory.Sequence(lambda n: f"direction-{n}")
    order = factory.Sequence(lambda n: n)
    name_en = factory.Sequence(lambda n: f"Direction {n}")
    name_zh = factory.Sequence(lambda n: f"方向{n}")
    description_en = "A direction."
    description_zh = "一个方向。"
    status = PublicationStatus.PUBLISHED


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    direction = factory.SubFactory(DirectionFactory)
    slug = factory.Sequence(lambda n: f"area-{n}")
    name_en = factory.Sequence(lambda n: f"Area {n}")
    name_zh = factory.Sequence(lambda n: f"领域{n}")
    status = PublicationStatus.PUBLISHED


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    area = factory.SubFactory(AreaFactory)
    code = factory.Sequence(lambda n: f"topic-{n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")
    name_zh = factory.Sequence(lambda n: f"课题{n}")
    statement_en = "Something is used routinely."
    statement_zh = "某项技术得到常规应用。"
    kind = Topic.Kind.TECHNOLOGY
    status = Topic.Status.CANDIDATE


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    code = factory.Sequence(lambda n: f"scenario-{n}")
    title_en = factory.Sequence(lambda n: f"Scenario {n}")
    title_zh = factory.Sequence(lambda n: f"场景{n}")
    summary_en = "A scenario."
    summary_zh = "一个场景。"
    scenario_type = Scenario.ScenarioType.SECTOR_INTEGRATED
    list_kind = Scenario.ListKind.DEMONSTRATION
    setting = Scenario.Setting.FACTORY
    maturity = Scenario.Maturity.PILOT
    status = PublicationStatus.PUBLISHED


def generate_catalog(
    *, topics: int = 1000, areas: int = 50, scenarios: int = 100, links_per_scenario: int = 8
) -> dict[str, Any]:
    """A large catalog in a few bulk inserts: directions, areas, topics with sources and clusters, scenarios with links."""
    programme = ProgrammeFactory(code="GEN")
    directions = [DirectionFactory(slug=f"gen-direction-{i}") for i in range(6)]
    area_objs = Area.objects.bulk_create(
        [
            Area(
                direction=directions[i % 6],
                slug=f"gen-area-{i}",
                name_en=f"Generated area {i}",
                name_zh=f"生成领域{i}",
                status="published",
            )
            for i in range(areas)
        ]
    )
    clusters = Cluster.objects.bulk_create(
        [
            Cluster(code=f"gen-cluster-{i}", name_en=f"List {i}", name_zh=f"清单{i}", kind="policy_list")
            for i in range(3)
        ]
    )
    topic_objs = Topic.objects.bulk_create(
        [
            Topic(
                area=area_objs[i % areas],
                code=f"gen-topic-{i}",
                name_en=f"Generated quantum topic {i}" if i % 10 == 0 else f"Generated topic {i}",
                name_zh=f"生成量子课题{i}" if i % 10 == 0 else f"生成课题{i}",
                statement_en=f"Generated technology {i} is in routine use.",
                statement_zh=f"生成技术{i}得到常规应用。",
                description_en="Generated.",
                description_zh="生成。",
                kind="technology",
                status="draft" if i % 50 == 49 else "candidate",
                tags=["generated"],
            )
            for i in range(topics)
        ]
    )
    Topic.clusters.through.objects.bulk_create(
        [Topic.clusters.through(topic_id=t.pk, cluster_id=clusters[i % 3].pk) for i, t in enumerate(topic_objs)]
    )
    ct = ContentType.objects.get_for_model(Topic)
    SourceReference.objects.bulk_create(
        [
            SourceReference(programme=programme, content_type=ct, object_id=t.pk, label=f"源{i}")
            for i, t in enumerate(topic_objs)
        ]
    )
    scenario_objs = Scenario.objects.bulk_create(
        [
            Scenario(
                code=f"gen-scenario-{i}",
                title_en=f"Generated scenario {i}",
                title_zh=f"生成场景{i}",
                summary_en="Generated.",
                summary_zh="生成。",
                scenario_type="sector_integrated",
                list_kind="demand",
                setting="factory" if i % 2 else "city",
                maturity="pilot",
                status="published",
            )
            for i in range(scenarios)
        ]
    )
    roles = ["core", "enabling", "complementary"]
    ScenarioTopic.objects.bulk_create(
        [
            ScenarioTopic(scenario=s, topic=topic_objs[(i * links_per_scenario + j) % topics], role=roles[j % 3])
            for i, s in enumerate(scenario_objs)
            for j in range(links_per_scenario)
        ]
    )
    Scenario.directions.through.objects.bulk_create(
        [
            Scenario.directions.through(scenario_id=s.pk, direction_id=directions[i % 6].pk)
            for i, s in enumerate(scenario_objs)
        ]
    )
    return {"directions": directions, "areas": area_objs, "topics": topic_objs, "scenarios": scenario_objs}


def staff_user(
    username: str, *roles: str, no_role: bool = False, password: str = "a-long-password-1", **extra: Any
) -> Any:
    """An active staff account holding ``roles`` (group names of ``foresight.core.roles.ROLES``; every role
    when none is named, which is not a superuser: the permission checks still run; ``no_role``: none)."""
    wanted = [] if no_role else list(roles) or list(ROLES)
    unknown = set(wanted) - set(ROLES)
    assert not unknown, f"no such role: {unknown}"
    if Group.objects.filter(name__in=wanted).count() != len(wanted):
        roles_sync()  # a flushed database (transactional tests) lost the groups made after migrate
    user = get_user_model().objects.create_user(
        username, extra.pop("email", f"{username}@example.org"), password, is_staff=True, **extra
    )
    user.groups.add(*Group.objects.filter(name__in=wanted))
    return user
