"""The embedded demo's data: a staff account, a simulated finished study with a published edition and a
study with round 2 open (``make demo``).  Lives in the priorities app, the top of the dependency order,
because it uses every app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.text import slugify

from foresight.core.roles import ROLES
from foresight.delphi.models import Participant, RoundCompletion, Study
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.simulation import study_simulate
from foresight.priorities.models import Edition
from foresight.priorities.selectors.editions import edition_public_path
from foresight.priorities.services.publishing import edition_publish_suggested
from scenarios.exchange.demo import exchange_demo_load

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "foresight-demo"


class Command(BaseCommand):
    help = "Prepare the embedded demo: a local staff account and a simulated finished study (DEBUG only). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_data only runs with DJANGO_DEBUG on; it creates a known demo password.")
        User = get_user_model()
        if not User.objects.filter(username=DEMO_USERNAME).exists():
            User.objects.create_superuser(DEMO_USERNAME, "admin@localhost", DEMO_PASSWORD)
            self.stdout.write(f"demo staff account: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        else:
            self.stdout.write(f"demo staff account {DEMO_USERNAME!r} already exists")
        self._role_accounts()
        self._exchange()
        if not Study.objects.exists():
            result = study_simulate(experts=300, topics=24, seed=2026, rounds=2)
            self.stdout.write(f"simulated finished study {result.study} (rounds {', '.join(result.rounds)})")
            live = study_simulate(experts=40, topics=6, seed=7, rounds=2, leave_open=True)
            self.stdout.write(f"simulated study {live.study} with round 2 open")
        self._published_edition()
        self._expert_link()

    def _role_accounts(self) -> None:
        """One staff account per role (``analyst``, ``publisher``, …; the demo password), to see what each
        role may do."""
        User = get_user_model()
        for name in ROLES:
            username = slugify(name)
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(username, f"{username}@localhost", DEMO_PASSWORD, is_staff=True)
            user.groups.add(Group.objects.get(name=name))
        self.stdout.write(f"demo role accounts: {', '.join(slugify(n) for n in ROLES)} / {DEMO_PASSWORD}")

    def _exchange(self) -> None:
        """The scenario exchange: organisations with members and entries in every review state (once)."""
        curator = get_user_model().objects.get(username=slugify("Curator"))
        loaded = exchange_demo_load(password=DEMO_PASSWORD, curator=curator)
        if loaded is not None:
            self.stdout.write(
                f"scenario exchange: {loaded.organisations} organisations, {loaded.entries} entries, "
                f"one release published and one in preparation, matches, conversations and {loaded.pilots} pilots"
            )
            self.stdout.write(f"the pilots' public pipeline: {settings.SITE_URL}{reverse('pipeline')}")
        login = reverse("account_login")
        self.stdout.write(
            f"sign in as an organisation editor: {settings.SITE_URL}{login} editor@hospital.example / {DEMO_PASSWORD}"
        )

    def _published_edition(self) -> None:
        """The finished demo study gets a priority edition published at the suggested tiers (once)."""
        if Edition.objects.filter(status=Edition.Status.PUBLISHED).exists():
            return
        study = Study.objects.filter(status=Study.Status.FINISHED).order_by("pk").first()
        if study is None:
            return
        edition = edition_publish_suggested(study=study, seed=2026)
        self.stdout.write(
            f"published priority edition {edition.code}: {settings.SITE_URL}{edition_public_path(edition.code)}"
        )

    def _expert_link(self) -> None:
        """A fresh single-use link for the one panel member who has not answered the open demo round."""
        participant = (
            Participant.objects.filter(study__rounds__status="open", status=Participant.Status.ACTIVE)
            .exclude(pk__in=RoundCompletion.objects.filter(round__status="open").values("participant_id"))
            .select_related("study")
            .order_by("pk")
            .first()
        )
        if participant is None:
            return
        token = invitation_create(participant=participant, days=1)
        path = reverse("delphi:redeem", kwargs={"study_code": participant.study.code})
        self.stdout.write(
            f"try the expert questionnaire (round 2, single-use link): {settings.SITE_URL}{path}?t={token}"
        )
