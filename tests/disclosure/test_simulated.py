"""The exhaustive differencing search (``search.py``) over what the product releases for simulated
studies: a published edition, the staff console's round results, the change between rounds, and the
real-time feedback an expert of a simulated real-time study saw.

The attacker is the strong one of ``search.py``: she knows every released figure at full precision (the
pages print fewer digits), the size of every expertise level and sector of every item (the layer hides
some of them) and, between rounds, the paired distributions before and after (the product prints only
their quartiles, the share who changed and the Wilcoxon test).  No group of fewer than k + 1 respondents
— k others besides any one who answered — may come out determined.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from foresight.delphi import selectors
from foresight.delphi.models import Answer, Participant, Question, Round, RoundStat, Study
from foresight.delphi.services import feedback, responses
from foresight.delphi.staff.selectors import round_consensus_overview
from foresight.disclosure import snapshot_due
from foresight.priorities.models import Edition
from tests.disclosure import search as S

pytestmark = pytest.mark.worker

INDEX_ITEMS = ("importance", "competitiveness")


def _simulate(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("load_catalog", verbosity=0)
    call_command("simulate_study", *args, "--timeout", "300", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _searchable(released: dict[str, Any]) -> dict[str, Any]:
    """A released index item as the search reads it: the change between rounds is searched on its own."""
    return {key: value for key, value in released.items() if key != "change"}


def _sizes(rnd: Round, topic_id: int, key: str) -> tuple[dict[str, int], dict[str, int]]:
    """The true size of every expertise level and every sector among the item's respondents."""
    stats = {s.group: s for s in RoundStat.objects.filter(round=rnd, topic_id=topic_id, question__key=key)}
    levels = stats["all"].data["levels"]
    sectors = {group.split(":", 1)[1]: stat.n for group, stat in stats.items() if group.startswith("sector:")}
    return {level: int(levels.get(level, 0)) for level in S.LEVELS}, sectors


def _assert_nothing_determined(rnd: Round, topic_id: int, key: str, released: dict[str, Any], study: Study) -> int:
    """Search one released index item by expertise level, by sector, and by both where it is small enough."""
    facts = S.item_facts(_searchable(released))
    if facts is None:
        return 0
    rules = study.disclosure_rules()
    levels, sectors = _sizes(rnd, topic_id, key)
    where = (rnd.code, topic_id, key)
    by_level = S.search_expertise(facts, weights=rules.weights, levels=levels, t=rules.t)
    assert by_level.violations == [], (where, [str(v) for v in by_level.violations])
    by_sector = S.search_sectors(facts, sectors=sectors, t=rules.t)
    assert by_sector.violations == [], (where, [str(v) for v in by_sector.violations])
    return 1


def _values(rnd: Round, topic_id: int, key: str) -> dict[int, int]:
    """Participant → the valid answer of one item in one round (the truth the search must not recover)."""
    return {
        p: int(v)
        for p, v in Answer.objects.filter(
            response__round=rnd, response__topic_id=topic_id, question__key=key, cant_judge=False
        ).values_list("response__participant_id", "value_num")
        if v is not None
    }


def _vector(values: Any) -> tuple[int, ...]:
    counts = Counter(values)
    return tuple(counts.get(v, 0) for v in S.VALUES)


def test_a_simulated_edition_and_its_rounds_determine_no_small_group(
    celery_worker_process: dict[str, str], transactional_db: Any
) -> None:
    """``simulate_study --publish``: every released index item of the edition, every item of both rounds
    as the staff console and the round feedback read them (``round_topic_reports``), and every pair of
    rounds of a topic (the panel saw round 1's distribution; the change block is released or not)."""
    line = _simulate("--experts", "120", "--topics", "8", "--seed", "4", "--publish")
    edition = Edition.objects.select_related("study").get(code=line["edition"])
    study = edition.study
    rules = study.disclosure_rules()
    searched = Counter()

    # 1. The published edition, entry by entry.
    for entry in edition.entries.select_related("topic"):
        rnd = study.rounds.get(number=entry.data["round"])
        for key in INDEX_ITEMS:
            released = ((entry.data.get("report") or {}).get("items") or {}).get(key)
            if released:
                searched["edition"] += _assert_nothing_determined(rnd, entry.topic_id, key, released, study)

    # 2. Both rounds as the staff console shows them (its figures are these reports, see round_consensus_overview).
    rounds = list(study.rounds.filter(status=Round.Status.AGGREGATED).order_by("number"))
    for rnd in rounds:
        overview = round_consensus_overview(rnd=rnd)
        reports = selectors.round_topic_reports(rnd=rnd)
        for row in overview.topics:
            report = reports.get(row.topic.pk) or {"items": {}}
            if row.importance is not None:  # what the console prints is the released report's
                item = report["items"]["importance"]
                assert {k: item.get(k) for k in ("median", "q1", "q3", "iqr", "index")} == {
                    k: row.importance.get(k) for k in ("median", "q1", "q3", "iqr", "index")
                }
            for key in INDEX_ITEMS:
                released = report["items"].get(key)
                if released:
                    searched["console"] += _assert_nothing_determined(rnd, row.topic.pk, key, released, study)

    # 3. Two rounds of one topic: round 1's distribution (shown to the panel as feedback), round 2's, and
    #    the paired distributions with the number who changed where the change block is released.
    first, second = rounds
    reports = {rnd.number: selectors.round_topic_reports(rnd=rnd) for rnd in rounds}
    for topic_id in second.topics.values_list("pk", flat=True):
        for key in INDEX_ITEMS + ("uncertainty",):
            before, after = _values(first, topic_id, key), _values(second, topic_id, key)
            one = (reports[1].get(topic_id) or {"items": {}})["items"].get(key) or {}
            two = (reports[2].get(topic_id) or {"items": {}})["items"].get(key) or {}
            paired = sorted(set(before) & set(after))
            change = None
            if two.get("change"):
                change = (
                    _vector(before[p] for p in paired),
                    _vector(after[p] for p in paired),
                    sum(1 for p in paired if before[p] != after[p]),
                )
            view = S.RoundsView(
                round1=S.vector(one["distribution"]) if one.get("n") is not None else None,
                round2=S.vector(two["distribution"]) if two.get("n") is not None else None,
                change=change,
                leavers=len(set(before) - set(after)),
                joiners=len(set(after) - set(before)),
                stayers=len(paired),
            )
            outcome = S.search_rounds(view, t=rules.t)
            assert outcome.violations == [], (topic_id, key, [str(v) for v in outcome.violations])
            searched["rounds"] += 1
            searched["change released"] += change is not None
            searched["change withheld"] += change is None and bool(two.get("suppressed", {}).get("change"))

    # The study is chosen so that every kind of figure is there to be searched: no vacuous pass.
    assert searched["edition"] >= 10 and searched["console"] >= 20 and searched["rounds"] >= 20, searched
    assert searched["change released"] and searched["change withheld"], searched


def test_the_real_time_feedback_of_a_simulated_study_determines_no_small_group(
    celery_worker_process: dict[str, str], transactional_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``simulate_study --mode realtime``: after every save the product decides whether to refresh the
    snapshot.  Recorded here, for every topic × importance, as the sequence of answer events and the
    snapshots released; the product's snapshots are those the rule gives on that sequence, and for each
    respondent as the viewer (knowing her own answers, the panel size and the rule) the search finds no
    group of fewer than k others determined."""
    members: dict[tuple[int, int, int], list[dict[str, str]]] = {}
    released: dict[tuple[int, int, int], list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
    original = feedback.realtime_snapshot

    def recording(*, rnd: Round, topic: Any, question: Question, rules: Any) -> Any:
        snapshot = original(rnd=rnd, topic=topic, question=question, rules=rules)
        key = (rnd.pk, topic.pk, question.pk)
        current = {
            str(p): f"{v!r}"
            for p, v in Answer.objects.filter(
                response__round=rnd, response__topic=topic, question=question, cant_judge=False
            ).values_list("response__participant_id", "value_num")
        }
        history = members.setdefault(key, [])
        if not history or history[-1] != current:
            history.append(current)
        if snapshot.members is not None and (not released.get(key) or released[key][-1][2] != snapshot.members):
            released.setdefault(key, []).append(
                (len(history) - 1, snapshot.figures.get("distribution"), dict(snapshot.members))
            )
        return snapshot

    monkeypatch.setattr(responses, "realtime_snapshot", recording)  # where the save calls it
    line = _simulate("--experts", "24", "--topics", "3", "--seed", "5", "--mode", "realtime")
    study = Study.objects.get(code=line["study"])
    rules = study.disclosure_rules()
    importance = Question.objects.get(study=study, key="importance")
    outcomes: Counter[str] = Counter()
    refresh = lambda previous, current: snapshot_due(previous=previous, current=current, rules=rules)  # noqa: E731
    checked = 0
    for (round_id, topic_id, question_id), history in members.items():
        if question_id != importance.pk:
            continue
        # The answer events behind the states (one save changes one respondent), respondents renumbered.
        ids = {p: i for i, p in enumerate(sorted({p for state in history for p in state}, key=int))}
        events: list[S.Event] = []
        previous: dict[str, str] = {}
        for state in history:
            changed = [p for p in set(previous) | set(state) if previous.get(p) != state.get(p)]
            assert len(changed) <= 1
            for p in changed:
                value = state.get(p)
                events.append(S.Event(ids[p], int(float(value)) if value is not None else None))
            previous = state
        shots = S.replay(events, refresh)
        product = [
            tuple(int(d[str(v)]) for v in S.VALUES) for _, d, _ in released.get((round_id, topic_id, question_id), [])
        ]
        assert [s.distribution for s in shots] == product, topic_id
        panel = Participant.objects.filter(study=study, topics=topic_id).count()
        for viewer in ids.values():
            view = S.realtime_view(viewer=viewer, events=events, snapshots=shots[:S_SNAPSHOTS], others=panel - 1)
            if not view.snapshots:
                continue
            outcome = S.search_realtime(view, refresh=refresh, k=rules.k)
            assert outcome.violations == [], (topic_id, viewer, outcome.violations)
            checked += 1
        # After the round closes its own figures are published (staff console, editions): they are the
        # last snapshot's, or withheld — a difference of a few late answers would give those answers away.
        final = selectors.round_topic_reports(rnd=Round.objects.get(pk=round_id))[topic_id]["items"]["importance"]
        if final.get("n") is None:
            outcomes["withheld"] += 1
            if shots:
                assert final["suppressed"]["all"] in ("small_group", "since_feedback"), final
        else:
            assert shots and tuple(final["distribution"][str(v)] for v in S.VALUES) == shots[-1].distribution
            outcomes["the last snapshot's"] += 1
    assert checked >= 10 and outcomes, outcomes

    # The topic page's round history and the respondents by expertise (the expertise item was fed back
    # live too) obey the same rule: the last snapshot's figures, or withheld.
    from foresight.catalog.models import Topic
    from foresight.delphi.models import FeedbackSnapshot
    from foresight.priorities.models import ScoringRun
    from foresight.priorities.selectors.editions import topic_history
    from foresight.priorities.services.editions import edition_draft_create, edition_entry_decide, edition_publish
    from foresight.priorities.services.runs import scoring_run_create, scoring_run_execute

    # Published with whatever tiers the run gives (insufficient evidence included): the topic page then
    # shows the study's rounds.  The run is computed by the worker or here, whichever comes first.
    run = scoring_run_create(study=study, seed=1, top_k=1, B=50)
    while run.status != ScoringRun.Status.DONE:
        assert run.status != ScoringRun.Status.FAILED, run.error
        scoring_run_execute(run_id=run.pk)
        run.refresh_from_db()
    draft = edition_draft_create(run=run, code="realtime-edition", title_en="Real-time")
    for entry in draft.entries.all():
        edition_entry_decide(entry=entry, tier=entry.tier, rationale_en="Because.")
    edition_publish(edition=draft)
    expertise = Question.objects.get(study=study, key="expertise")
    for rnd in Round.objects.filter(study=study, status=Round.Status.AGGREGATED):
        reports = selectors.round_topic_reports(rnd=rnd)
        for topic_id, report in reports.items():
            history = topic_history(topic=Topic.objects.get(pk=topic_id))
            shown = [r.figures.get("importance") for r in history.rounds if r.round_number == rnd.number]
            final = report["items"]["importance"]
            assert all(f is None or f["n"] == final["n"] for f in shown), (topic_id, shown, final)
            assert not shown or final["n"] is not None or shown == [None], (topic_id, shown)
            last = FeedbackSnapshot.objects.filter(round=rnd, topic_id=topic_id, question=expertise).first()
            levels = report["respondents"].get("by_expertise")
            if last is not None and last.members is not None and levels:
                counts = Counter(value.split("|")[1] for value in last.members.values())
                assert {lv: levels.get(lv, 0) for lv in ("high", "medium", "low")} == {
                    lv: counts.get(lv, 0) for lv in ("high", "medium", "low")
                }, (topic_id, levels, counts)


S_SNAPSHOTS = 4  # the snapshots a viewer had seen by the fourth (bounds the search, as in test_differencing)
