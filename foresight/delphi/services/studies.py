"""Studies and their question sets. Rules and questions are frozen when round 1 opens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from foresight.catalog.models import Topic
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.roles import study_scoped_permissions, users_with_permission
from foresight.delphi import stopping
from foresight.delphi.models import Question, Round, Study
from foresight.delphi.questions import DEFAULT_QUESTIONS
from foresight.delphi.roles import MANAGE_STUDY

# Study settings that affect a number; frozen once round 1 opens (written to round.json too).
RULE_FIELDS = (
    "k_threshold",
    "min_respondents",
    "min_high_respondents",
    "expertise_weights",
    "consensus_rule",
    "stopping_rule",
    "drop_consensus_topics",
    "prefill_previous",
    "session_hours",
    "planned_rounds",
    "mode",
    "realtime_feedback_after_own_answer",
    "anonymous",
    "horizon_year",
)


def _new_code(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@transaction.atomic
def study_create(
    *,
    title_en: str,
    horizon_year: int,
    topics: Iterable[Topic],
    title_zh: str = "",
    description_en: str = "",
    organiser: str = "",
    contact_email: str = "",
    planned_rounds: int = 2,
    mode: str = Study.Mode.ROUNDS,
    k_threshold: int = 5,
    min_respondents: int = 10,
    min_high_respondents: int = 5,
    anonymous: bool = True,
    created_by: Any = None,
    code: str | None = None,
) -> Study:
    """Create a study with the default question set and its rounds (all draft).

    1. the study, validated; 2. the default questions, copied so staff can edit them;
    3. rounds 1…planned (round 1 covers every chosen topic; later rounds get theirs when the previous one is aggregated).
    """
    study = Study(
        code=code or _new_code("study"),
        title_en=title_en,
        title_zh=title_zh,
        description_en=description_en,
        organiser=organiser,
        contact_email=contact_email,
        horizon_year=horizon_year,
        planned_rounds=planned_rounds,
        mode=mode,
        k_threshold=k_threshold,
        min_respondents=min_respondents,
        min_high_respondents=min_high_respondents,
        anonymous=anonymous,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    study.full_clean()
    study.save()
    topic_list = list(topics)
    if not topic_list:
        raise ValidationError({"topics": ["Choose at least one topic."]})
    study.topics.set(topic_list)
    for order, spec in enumerate(DEFAULT_QUESTIONS):
        question = Question(study=study, order=order, **spec)
        question.full_clean()
        question.save()
    rounds = 1 if mode == Study.Mode.REALTIME else planned_rounds
    for number in range(1, rounds + 1):
        rnd = Round(study=study, number=number, code=f"{study.code}-r{number}")
        rnd.full_clean()
        rnd.save()
        if number == 1:
            rnd.topics.set(topic_list)
    audit_log(action="study_create", actor=created_by, study=study, topics=len(topic_list))
    return study


def _refuse_if_frozen(*, study: Study, actor: Any, action: str, what: str, **details: Any) -> None:
    """Used by every rule and question change: once round 1 has opened, refuse and audit the attempt."""
    if study.is_frozen:
        audit_log(action=f"{action}_refused", actor=actor, study=study, reason="frozen", **details)
        raise Conflict(f"The study's {what} were frozen when round 1 opened; they cannot change now.")


def study_managers_set(*, study: Study, managers: Iterable[Any], actor: Any) -> Study:
    """Name the staff who alone may work on the study, each within her role (none: everyone whose role fits).
    Each must be active staff with a role that works on studies (``roles.study_scoped_permissions``); at
    least one must be able to manage studies (someone runs the rounds); and whoever names others keeps
    herself on the list (unless she is a superuser), so that nobody locks herself out by accident. Audited;
    allowed in any state of the study."""
    wanted = list(dict.fromkeys(managers))
    users = get_user_model().objects
    able = set(users.filter(users_with_permission(*study_scoped_permissions())).values_list("pk", flat=True))
    unable = [str(user) for user in wanted if user.pk not in able]
    if unable:
        raise ValidationError(
            {"managers": _("No role that works on studies: %(names)s.") % {"names": ", ".join(unable)}}
        )
    managers_ok = set(users.filter(users_with_permission(MANAGE_STUDY)).values_list("pk", flat=True))
    if wanted and not any(user.pk in managers_ok for user in wanted):
        raise ValidationError({"managers": _("Name at least one study manager: someone runs the rounds.")})
    if wanted and not getattr(actor, "is_superuser", False) and all(user.pk != actor.pk for user in wanted):
        raise ValidationError({"managers": _("Name yourself too, or this study closes to you.")})
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        before = sorted(study.managers.values_list("username", flat=True))
        study.managers.set(wanted)
        after = sorted(u.get_username() for u in wanted)
        if before != after:
            audit_log(action="study_managers_change", actor=actor, study=study, before=before, after=after)
    return study


def study_update_rules(*, study: Study, actor: Any, **changes: Any) -> Study:
    """Change settings that affect numbers; refused (and audited) once round 1 has opened."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown settings: {', '.join(sorted(unknown))}")
    study = Study.objects.get(pk=study.pk)
    _refuse_if_frozen(study=study, actor=actor, action="study_rules_change", what="rules", changes=sorted(changes))
    if "stopping_rule" in changes:
        errors = stopping.rule_errors(changes["stopping_rule"])
        if errors:
            raise ValidationError({"stopping_rule": list(errors.values())})
    with transaction.atomic():
        before = {name: getattr(study, name) for name in changes}
        for name, value in changes.items():
            setattr(study, name, value)
        study.full_clean()
        study.save(update_fields=list(changes))
        audit_log(action="study_rules_change", actor=actor, study=study, before=before, after=changes)
    return study


def question_update(*, question: Question, actor: Any, **changes: Any) -> Question:
    """Reword or reconfigure a question before round 1 opens."""
    allowed = {"label_en", "label_zh", "help_en", "help_zh", "options", "max_choices", "allow_cant_judge", "order"}
    if set(changes) - allowed:
        raise ValidationError(f"Cannot change: {', '.join(sorted(set(changes) - allowed))}")
    study = Study.objects.get(pk=question.study_id)
    _refuse_if_frozen(study=study, actor=actor, action="question_change", what="questions", question=question.key)
    with transaction.atomic():
        for name, value in changes.items():
            setattr(question, name, value)
        question.full_clean()
        question.save(update_fields=list(changes))
        audit_log(action="question_change", actor=actor, study=study, question=question.key, changes=sorted(changes))
    return question


def question_remove(*, question: Question, actor: Any) -> None:
    study = Study.objects.get(pk=question.study_id)
    _refuse_if_frozen(study=study, actor=actor, action="question_remove", what="questions", question=question.key)
    if question.required:
        raise ValidationError(
            "The expertise question is required: it lets experts skip topics and weights every index."
        )
    with transaction.atomic():
        audit_log(action="question_remove", actor=actor, study=study, question=question.key)
        question.delete()


def question_add(*, study: Study, actor: Any, **spec: Any) -> Question:
    study = Study.objects.get(pk=study.pk)
    _refuse_if_frozen(study=study, actor=actor, action="question_add", what="questions", question=spec.get("key"))
    with transaction.atomic():
        order = study.questions.count()
        question = Question(study=study, order=order, **spec)
        question.full_clean()
        question.save()
        audit_log(action="question_add", actor=actor, study=study, question=question.key)
    return question
