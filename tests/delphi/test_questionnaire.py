"""The expert questionnaire over HTTP: topic choice, autosave, validation, closed rounds, feedback, arguments."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from foresight.catalog.models import Topic
from foresight.delphi.models import Answer, Argument, Participant, Response, Round, RoundCompletion, Study
from foresight.delphi.services.aggregation import round_aggregate
from foresight.delphi.services.arguments import argument_moderate
from foresight.delphi.services.panel import invitation_create
from foresight.delphi.services.responses import response_save
from foresight.delphi.services.rounds import round_close, round_open
from tests.delphi.conftest import make_participant

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(participant: Participant) -> Client:
    browser = Client()
    response = browser.post(
        f"/delphi/{participant.study.code}/join/", {"t": invitation_create(participant=participant)}
    )
    assert response.status_code == 302
    return browser


def url(study: Study, topic: str, action: str = "", number: int = 1) -> str:
    return f"/delphi/{study.code}/round/{number}/{topic}/" + (f"{action}/" if action else "")


def answers_of(participant: Participant, rnd: Round, topic: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in Answer.objects.filter(response__participant=participant, response__round=rnd, response__topic__code=topic):
        key = a.question.key
        out[key] = (
            "cant_judge" if a.cant_judge else a.value_codes or a.value_code or a.value_num or a.value_text or None
        )
    return out


def feedback_box(page: str, key: str) -> str:
    """The feedback box of one question (it holds no nested ``div``)."""
    start = page.index(f'id="feedback-{key}"')
    return page[start : page.index("</div>", start)]


def snapshot() -> list[tuple[Any, ...]]:
    return sorted(
        Answer.objects.values_list(
            "response__participant_id",
            "response__topic_id",
            "question__key",
            "cant_judge",
            "value_num",
            "value_code",
            "value_text",
        )
    ) + sorted(Response.objects.values_list("pk", "rationale"))


@pytest.fixture
def open_round(round1: Round) -> Round:
    round_open(rnd=round1)
    round1.refresh_from_db()
    return round1


def test_topic_choice_is_pre_ticked_from_the_experts_areas_and_saved(study: Study, open_round: Round) -> None:
    from foresight.delphi.models import Expert
    from foresight.delphi.services.panel import participant_add, participant_consent

    robots = Topic.objects.get(code="humanoid-robots")
    expert = Expert.objects.create(email="carol@example.org", name="Carol", sector="government")
    expert.areas.add(robots.area)
    carol = participant_add(study=study, expert=expert)
    participant_consent(participant=carol)
    browser = login(carol)
    # Without topics the home page sends her to choose them.
    home = browser.get(f"/delphi/{study.code}/")
    assert home.status_code == 302 and home["Location"].endswith("/topics/")
    page = browser.get(f"/delphi/{study.code}/topics/").content.decode()
    assert f'value="{robots.pk}" checked' in page
    quantum = Topic.objects.get(code="quantum-computing")
    assert f'value="{quantum.pk}" checked' not in page
    assert browser.post(f"/delphi/{study.code}/topics/", {"topics": [robots.pk, quantum.pk]}).status_code == 302
    assert set(carol.topics.values_list("code", flat=True)) == {"humanoid-robots", "quantum-computing"}
    # A topic from outside the study, junk, or nothing: 400, and the choice is unchanged.
    outside = Topic.objects.exclude(pk__in=study.topics.all()).first()
    for bad in ({"topics": [outside.pk]}, {"topics": ["x"]}, {}):
        response = browser.post(f"/delphi/{study.code}/topics/", bad)
        assert response.status_code == 400, bad
        assert 'role="alert"' in response.content.decode()
    assert set(carol.topics.values_list("code", flat=True)) == {"humanoid-robots", "quantum-computing"}


def test_autosave_stores_each_answer_and_a_reload_shows_it(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    home = browser.get(f"/delphi/{study.code}/").content.decode()
    assert "0 of 4 topics answered" in home
    page = browser.get(url(study, "bci"))
    assert page.status_code == 200
    assert Topic.objects.get(code="bci").statement_en in page.content.decode()
    saved = browser.post(
        url(study, "bci", "save"),
        {
            "expertise": "high",
            "importance": "4",
            "importance_why": ["economy", "science"],
            "importance_why__present": "1",
            "tech_year": "2035",
            "social_year": "never",
            "leader": "cant_judge",
            "rationale": "Clinical trials are under way.",
        },
        **HTMX,
    )
    assert saved.status_code == 200, saved.content.decode()
    assert "Saved at" in saved.content.decode()
    assert answers_of(alice, open_round, "bci") == {
        "expertise": "high",
        "importance": "4",
        "importance_why": ["science", "economy"],
        "tech_year": 2035.0,
        "social_year": "never",
        "leader": "cant_judge",
    }
    assert Response.objects.get(participant=alice, topic__code="bci").rationale == "Clinical trials are under way."
    reloaded = browser.get(url(study, "bci")).content.decode()
    assert 'name="importance" value="4" checked' in reloaded
    assert 'name="importance_why" value="economy" checked' in reloaded
    assert '<option value="2035" selected>' in reloaded
    assert '<option value="never" selected>' in reloaded
    assert 'name="leader" value="cant_judge" checked' in reloaded
    assert "Clinical trials are under way." in reloaded
    assert "1 of 4 topics answered" in browser.get(f"/delphi/{study.code}/").content.decode()
    # Unticking every box of a multi-select clears it.
    browser.post(url(study, "bci", "save"), {"importance_why__present": "1"}, **HTMX)
    assert "importance_why" not in answers_of(alice, open_round, "bci")


def test_the_progress_after_an_autosave_counts_the_topic_just_answered(
    study: Study, open_round: Round, alice: Participant
) -> None:
    browser = login(alice)

    def progress(response: Any) -> str:
        html = response.content.decode()
        start = html.index('id="progress-line"')
        return " ".join(html[start : html.index("</label>", start)].split())

    first = browser.post(url(study, "bci", "save"), {"expertise": "high"}, **HTMX)
    assert first.status_code == 200
    assert "1 answered" in progress(first)
    again = browser.post(url(study, "bci", "save"), {"expertise": "low", "importance": "3"}, **HTMX)
    assert "1 answered" in progress(again)
    other = browser.post(url(study, "6g", "save"), {"importance": "3"}, **HTMX)  # no expertise: not answered
    assert "1 answered" in progress(other)
    other = browser.post(url(study, "6g", "save"), {"expertise": "medium"}, **HTMX)
    assert "2 answered" in progress(other)
    assert "2 answered" in progress(browser.get(url(study, "bci")))
    cleared = browser.post(url(study, "bci", "save"), {"expertise": ""}, **HTMX)  # the answer taken back
    assert "1 answered" in progress(cleared)
    assert "expertise" not in answers_of(alice, open_round, "bci")
    assert 'name="expertise" value="low" checked' not in cleared.content.decode()
    assert "1 answered" in progress(browser.get(url(study, "bci")))


def test_a_bad_value_is_refused_with_a_message_and_the_good_ones_are_kept(
    study: Study, open_round: Round, alice: Participant
) -> None:
    browser = login(alice)
    response = browser.post(url(study, "bci", "save"), {"expertise": "high", "importance": "9"}, **HTMX)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="error-importance"' in body and "Choose one of 1, 2, 3, 4, 5" in body
    assert answers_of(alice, open_round, "bci") == {"expertise": "high"}


def test_an_autosave_without_a_rationale_problem_leaves_its_message_empty(
    study: Study, open_round: Round, alice: Participant
) -> None:
    """No stray "None" under the reason box, whether the save passed, partly passed, or had no reason in it."""
    browser = login(alice)

    def rationale_error(response: Any) -> str:
        html = response.content.decode()
        start = html.index('id="error-rationale"')
        return html[html.index(">", start) + 1 : html.index("</p>", start)]

    for data, headers, status in (
        ({"expertise": "high", "rationale": "Trials are under way."}, HTMX, 200),
        ({"expertise": "high"}, HTMX, 200),
        ({"importance": "9", "rationale": "Why not."}, HTMX, 400),
        ({"importance": "9"}, {}, 400),
    ):
        response = browser.post(url(study, "bci", "save"), data, **headers)
        assert response.status_code == status, data
        assert rationale_error(response) == "", data
        assert ">None<" not in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"importance": "6"}, "Choose one of"),
        ({"importance": "high"}, "Choose one of"),
        ({"expertise": "guru"}, "Choose one of the options"),
        ({"expertise": "cant_judge"}, "not offered"),
        ({"importance_why": ["science", "economy", "society"], "importance_why__present": "1"}, "at most 2"),
        ({"importance_why": ["science", "cant_judge"], "importance_why__present": "1"}, "not both"),
        ({"importance_why": ["telepathy"], "importance_why__present": "1"}, "among the options"),
        ({"tech_year": "1999"}, "Give a year from"),
        ({"tech_year": "2999"}, "Give a year from"),
        ({"tech_year": "soon"}, "Give a year"),
        ({"rationale": "x" * 1001}, "At most 1,000"),
    ],
)
def test_bad_answers_get_a_clear_400_and_change_nothing(
    study: Study, open_round: Round, alice: Participant, data: dict[str, Any], message: str
) -> None:
    browser = login(alice)
    browser.post(url(study, "bci", "save"), {"expertise": "medium", "importance": "3"}, **HTMX)
    before = snapshot()
    for headers in (HTMX, {}):
        response = browser.post(url(study, "bci", "save"), data, **headers)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert snapshot() == before


def test_without_javascript_save_and_next_moves_on(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    topics = [t for t in Topic.objects.filter(studies=study).order_by("area__direction__order", "area__order", "code")]
    response = browser.post(url(study, topics[0].code, "save"), {"expertise": "low", "go": "next"})
    assert response.status_code == 302
    assert response["Location"] == url(study, topics[1].code)
    assert answers_of(alice, open_round, topics[0].code) == {"expertise": "low"}
    # An invalid value re-renders the page with what was typed, and the message.
    response = browser.post(url(study, topics[1].code, "save"), {"expertise": "low", "importance": "0", "go": "next"})
    assert response.status_code == 400
    assert "Choose one of" in response.content.decode()


def test_a_closed_round_answers_409_and_changes_nothing(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    browser.post(url(study, "bci", "save"), {"expertise": "high", "importance": "4"}, **HTMX)
    round_close(rnd=open_round)
    before = snapshot()
    response = browser.post(url(study, "bci", "save"), {"importance": "1"}, **HTMX)
    assert response.status_code == 409
    assert "closed" in response.content.decode()
    assert browser.post(url(study, "bci", "save"), {"importance": "1"}).status_code == 409
    assert browser.post(url(study, "bci", "argument"), {"stance": "pro", "text": "Late"}).status_code == 409
    assert browser.post(f"/delphi/{study.code}/round/1/submit/").status_code == 409
    assert snapshot() == before
    assert not Argument.objects.exists() and not RoundCompletion.objects.exists()
    # The page still shows her answers, read-only.
    page = browser.get(url(study, "bci")).content.decode()
    assert "This round is closed" in page and 'name="importance" value="4" checked' in page
    assert '<fieldset class="questions" disabled>' in page


def test_foreign_topics_and_rounds_are_404(study: Study, open_round: Round, catalog: Any) -> None:
    dora = make_participant(study, "dora@example.org", topics=["bci"])
    browser = login(dora)
    outside = Topic.objects.exclude(pk__in=study.topics.all()).first()
    for topic in ("quantum-computing", outside.code, "no-such-topic"):
        assert browser.get(url(study, topic)).status_code == 404
        assert browser.post(url(study, topic, "save"), {"expertise": "high"}).status_code == 404
        assert browser.post(url(study, topic, "argument"), {"stance": "pro", "text": "x"}).status_code == 404
    # Round 2 has not opened: 404, nothing to see or save.
    assert browser.get(url(study, "bci", number=2)).status_code == 404
    assert browser.post(url(study, "bci", "save", number=2), {"expertise": "high"}).status_code == 404
    assert not Answer.objects.exists() and not Argument.objects.exists()


def test_submit_needs_expertise_on_every_topic(study: Study, open_round: Round, alice: Participant) -> None:
    browser = login(alice)
    response = browser.post(f"/delphi/{study.code}/round/1/submit/")
    assert response.status_code == 400
    assert "4 left" in response.content.decode()
    for topic in study.topics.all():
        browser.post(url(study, topic.code, "save"), {"expertise": "medium"}, **HTMX)
    assert browser.post(f"/delphi/{study.code}/round/1/submit/").status_code == 302
    assert RoundCompletion.objects.filter(participant=alice, round=open_round).exists()
    assert "Submitted on" in browser.get(f"/delphi/{study.code}/").content.decode()


def test_arguments_are_moderated_and_shown_anonymously_in_the_next_round(
    study: Study, open_round: Round, django_user_model: Any
) -> None:
    panel = [make_participant(study, f"e{i}@example.org") for i in range(6)]
    browser = login(panel[0])
    response = browser.post(
        url(study, "bci", "argument"), {"stance": "contra", "text": "Regulation will be slow."}, **HTMX
    )
    assert response.status_code == 201
    assert "once a moderator has approved it" in response.content.decode()
    for bad in (
        {"stance": "maybe", "text": "x"},
        {"stance": "pro", "text": "  "},
        {"stance": "pro", "text": "y" * 1001},
    ):
        assert browser.post(url(study, "bci", "argument"), bad, **HTMX).status_code == 400
    argument = Argument.objects.get()
    assert argument.status == Argument.Status.PENDING
    assert "Regulation will be slow." not in login(panel[1]).get(url(study, "bci")).content.decode()
    staff = django_user_model.objects.create_user("mod", is_staff=True)
    argument_moderate(argument=argument, status="approved", actor=staff)
    # Same round: not shown (fixed rounds feed back between rounds); round 2: shown, without any pseudonym.
    assert "Regulation will be slow." not in login(panel[1]).get(url(study, "bci")).content.decode()
    for p in panel:
        response_save(participant=p, rnd=open_round, topic=Topic.objects.get(code="bci"), answers={"expertise": "high"})
    round_close(rnd=open_round)
    round_aggregate(round_id=open_round.pk)
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)
    page = login(panel[1]).get(url(study, "bci", number=2)).content.decode()
    assert "Regulation will be slow." in page
    assert panel[0].pseudonym not in page


def test_round_2_shows_the_group_next_to_the_own_previous_answer(study: Study, open_round: Round) -> None:
    bci = Topic.objects.get(code="bci")
    panel = [make_participant(study, f"e{i}@example.org") for i in range(6)]
    importance = ["2", "3", "4", "4", "4", "5"]  # median 4, Q1 3.25, Q3 4
    for p, value in zip(panel, importance, strict=True):
        response_save(participant=p, rnd=open_round, topic=bci, answers={"expertise": "high", "importance": value})
    # Competitiveness answered by k = 5 experts: fewer than k + 1, never shown.
    for p in panel[:5]:
        response_save(participant=p, rnd=open_round, topic=bci, answers={"competitiveness": "3"})
    round_close(rnd=open_round)
    round_aggregate(round_id=open_round.pk)
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)
    browser = login(panel[0])
    page = browser.get(url(study, "bci", number=2)).content.decode()
    assert "Panel in round 1" in page
    assert "median <strong>4.00</strong>" in page
    assert "3.25–4.00" in page  # Q1 = 3.25, as every page prints a quartile (foresight.numbers)
    assert "Your previous answer: <strong>Very low</strong>" not in page
    assert "Your previous answer: <strong>Low</strong>" in page
    assert "◀ you" in page
    assert "Fewer than 6 answers" in feedback_box(page, "competitiveness")  # five answers: suppressed
    assert "Fewer than 6 answers" not in feedback_box(page, "importance")  # six answers: shown
    assert page.count('<meter min="0" max="1" value="0.5000">') == 1  # half the panel said 4
    # Keeping an answer outside the IQR prompts for a reason; moving into it does not.
    response = browser.post(url(study, "bci", "save", number=2), {"expertise": "high", "importance": "2"}, **HTMX)
    assert "outside the middle half" in response.content.decode()
    response = browser.post(url(study, "bci", "save", number=2), {"importance": "4"}, **HTMX)
    assert "outside the middle half" not in response.content.decode()
    assert answers_of(panel[0], round2, "bci")["importance"] == "4"
    assert answers_of(panel[0], open_round, "bci")["importance"] == "2"  # round 1 untouched


def test_realtime_feedback_follows_the_answers_and_waits_for_ones_own(catalog: Any) -> None:
    from foresight.delphi.services.studies import study_create

    study = study_create(
        title_en="Live",
        horizon_year=2045,
        topics=[Topic.objects.get(code="bci")],
        code="live",
        mode=Study.Mode.REALTIME,
        planned_rounds=1,
    )
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    bci = Topic.objects.get(code="bci")
    panel = [make_participant(study, f"e{i}@example.org", topics=["bci"]) for i in range(7)]
    browser = login(panel[0])
    assert "Answer first to see" in browser.get(url(study, "bci")).content.decode()
    browser.post(url(study, "bci", "save"), {"expertise": "high", "importance": "5"}, **HTMX)
    assert "Fewer than 6 answers" in browser.get(url(study, "bci")).content.decode()
    for p in panel[1:5]:
        response_save(participant=p, rnd=rnd, topic=bci, answers={"expertise": "high", "importance": "3"})
    page = browser.get(url(study, "bci")).content.decode()  # k = 5 answers: still nothing
    assert "Fewer than 6 answers" in page and "The panel so far" not in page
    response_save(participant=panel[5], rnd=rnd, topic=bci, answers={"expertise": "high", "importance": "3"})
    page = browser.get(url(study, "bci")).content.decode()
    assert "The panel so far" in page and "n = 6" in page and "median <strong>3.00</strong>" in page


def test_realtime_feedback_refreshes_without_touching_the_form(catalog: Any) -> None:
    from foresight.delphi.services.studies import study_create

    study = study_create(
        title_en="Live", horizon_year=2045, topics=[Topic.objects.get(code="bci")], code="live2", mode="realtime"
    )
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    bci = Topic.objects.get(code="bci")
    panel = [make_participant(study, f"e{i}@example.org", topics=["bci"]) for i in range(6)]
    for p in panel:
        response_save(participant=p, rnd=rnd, topic=bci, answers={"expertise": "high", "importance": "4"})
    browser = login(panel[0])
    page = browser.get(url(study, "bci")).content.decode()
    assert 'hx-trigger="every 20s"' in page
    part = browser.get(url(study, "bci"), {"part": "feedback"}, **HTMX).content.decode()
    assert 'id="feedback-importance" hx-swap-oob="true"' in part and "n = 6" in part
    assert "<input" not in part and "<textarea" not in part
    # Saving in real-time mode refreshes the feedback too.
    saved = browser.post(url(study, "bci", "save"), {"importance": "2"}, **HTMX).content.decode()
    assert 'id="feedback-importance" hx-swap-oob="true"' in saved


def test_an_autosave_and_a_topic_page_stay_within_their_statement_budget(
    study: Study, open_round: Round, django_assert_max_num_queries: Any
) -> None:
    """The autosave is the busiest request of a round (BENCHMARKS.md, submit path): a guard against creep."""
    alice = make_participant(study, "alice@example.org")
    browser = login(alice)
    data = {"expertise": "high", "importance": "4", "competitiveness": "3", "rationale": ""}
    assert browser.post(url(study, "humanoid-robots", "save"), data, **HTMX).status_code == 200
    data["importance"] = "5"
    with django_assert_max_num_queries(15):
        assert browser.post(url(study, "humanoid-robots", "save"), data, **HTMX).status_code == 200
    with django_assert_max_num_queries(10):
        assert browser.get(url(study, "humanoid-robots")).status_code == 200
    assert answers_of(alice, open_round, "humanoid-robots")["importance"] == "5"


def _five_pm_next_year() -> Any:
    from django.utils import timezone

    return timezone.now().replace(year=timezone.now().year + 1, month=3, day=5, hour=17, minute=0, second=0)


def _sentences(page: str, *needles: str) -> list[str]:
    """The paragraphs of the overview that hold one of the needles, tags stripped and whitespace squeezed."""
    import re

    paragraphs = [" ".join(re.sub(r"<[^>]+>", " ", p).split()) for p in re.findall(r"<p[^>]*>(.*?)</p>", page, re.S)]
    return [p for p in paragraphs if any(n in p for n in needles)]


def test_the_overview_ends_each_sentence_with_one_full_stop(study: Study, round1: Round, alice: Participant) -> None:
    """A time in the overview's sentences never runs into the sentence's own full stop ("5 p.m..")."""
    from foresight.delphi.services.rounds import round_schedule

    five_pm = _five_pm_next_year()
    round_schedule(rnd=round1, opens_at=five_pm, closes_at=five_pm.replace(day=20))
    browser = login(alice)
    languages = (("en", ""), ("zh", "/zh-hans"))
    pages = {lang: browser.get(f"{prefix}/delphi/{study.code}/").content.decode() for lang, prefix in languages}
    round_open(rnd=round1, closes_at=five_pm)
    RoundCompletion.objects.create(round=round1, participant=alice, submitted_at=five_pm.replace(year=five_pm.year - 1))
    for lang, prefix in languages:
        pages[lang] += browser.get(f"{prefix}/delphi/{study.code}/").content.decode()
    english = _sentences(pages["en"], "p.m.")
    assert len(english) == 3, english  # opens on, closes on, submitted on
    for text in english:
        assert "p.m.." not in text and ".." not in text, text
    chinese = _sentences(pages["zh"], "17:00")
    assert len(chinese) == 3, chinese
    for text in chinese:
        assert "。。" not in text and "p.m." not in text, text


@pytest.mark.parametrize(("zone", "abbreviation"), [("UTC", "UTC"), ("Asia/Shanghai", "CST")])
def test_every_time_an_expert_sees_names_its_time_zone(
    study: Study, round1: Round, alice: Participant, settings: Any, zone: str, abbreviation: str
) -> None:
    """Opening, closing, submission, closure and autosave times all carry the site's zone (TIME_ZONE)."""
    import re

    from django.utils import translation

    from foresight.delphi.services.rounds import round_schedule

    settings.TIME_ZONE = zone
    five_pm = _five_pm_next_year()  # 17:00 UTC; 01:00 the next day in Shanghai
    submitted = five_pm.replace(year=five_pm.year - 1)
    round_schedule(rnd=round1, opens_at=five_pm, closes_at=five_pm.replace(day=20))
    browser = login(alice)
    overview = browser.get(f"/delphi/{study.code}/").content.decode()
    assert f"opens on {local(five_pm)} {abbreviation};" in overview, _sentences(overview, "opens")
    round_open(rnd=round1, closes_at=five_pm)
    RoundCompletion.objects.create(round=round1, participant=alice, submitted_at=submitted)
    overview = browser.get(f"/delphi/{study.code}/").content.decode()
    assert f"closes on {local(five_pm)} {abbreviation};" in overview, _sentences(overview, "closes")
    assert f"Submitted on {local(submitted)} {abbreviation};" in overview
    saved = browser.post(url(study, "bci", "save"), {"expertise": "high"}, **HTMX).content.decode()
    assert re.search(rf"Saved at \d\d:\d\d:\d\d {abbreviation}\.", saved), saved
    chinese = browser.get(f"/zh-hans/delphi/{study.code}/").content.decode()
    with translation.override("zh-hans"):
        assert f"{local(five_pm)} {abbreviation}" in chinese
        assert f"{local(submitted)} {abbreviation}" in chinese
    round_close(rnd=round1)
    round1.refresh_from_db()
    closed = browser.get(f"/delphi/{study.code}/").content.decode()
    assert f"This round closed on {local(round1.closed_at)} {abbreviation};" in closed, _sentences(closed, "closed")


def local(value: Any) -> str:
    """A time as the active language writes it, in the site's time zone, without the zone."""
    from django.utils import formats, timezone

    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def test_once_topics_are_fixed_the_page_lists_them_read_only_and_says_why(study: Study, catalog: Any) -> None:
    """From round 2 on the topics page is no form: the chosen topics, a sentence why they are fixed, no button."""
    alice = make_participant(study, "alice@example.org", topics=["bci", "6g"])
    Round.objects.filter(study=study, number=1).update(status=Round.Status.AGGREGATED)
    Round.objects.update_or_create(study=study, number=2, defaults={"code": f"{study.code}-r2", "status": "open"})
    browser = login(alice)
    for language in ("", "/zh-hans"):
        response = browser.get(f"{language}/delphi/{study.code}/topics/")
        assert response.status_code == 200
        main = response.content.decode().split("<main")[1].split("</main>")[0]
        assert "<form" not in main and "<input" not in main and "<button" not in main
    page = browser.get(f"/delphi/{study.code}/topics/").content.decode()
    assert "Confirm my topics" not in page
    assert "Tick whole areas" not in page
    assert "fixed since the second round started" in page
    for topic in Topic.objects.filter(studies=study):
        assert (topic.name in page) is (topic.code in ("bci", "6g")), topic.code
    # The refusal of a change shows the same read-only list with the service's message.
    response = browser.post(f"/delphi/{study.code}/topics/", {"topics": [Topic.objects.get(code="6g").pk]})
    assert response.status_code == 409
    assert "Confirm my topics" not in response.content.decode()
    assert set(alice.topics.values_list("code", flat=True)) == {"bci", "6g"}


@pytest.mark.parametrize("prefill", [True, False])
def test_round_2_fills_in_her_previous_answers_to_keep_or_revise(
    study: Study, alice: Participant, bob: Participant, prefill: bool
) -> None:
    """From round 2 each item shows her round-1 answer, marked as kept, and one save keeps them all; nothing is
    stored before she saves. A study can turn this off (then round 2 starts empty, as before)."""
    Study.objects.filter(pk=study.pk).update(prefill_previous=prefill, drop_consensus_topics=False)
    round1 = study.rounds.get(number=1)
    round_open(rnd=round1)
    mine = {"expertise": "high", "importance": "2", "competitiveness": "4", "tech_year": "2031"}
    response_save(participant=alice, rnd=round1, topic=Topic.objects.get(code="bci"), answers=mine)
    response_save(participant=bob, rnd=round1, topic=Topic.objects.get(code="bci"), answers={**mine, "importance": "5"})
    round_close(rnd=round1)
    round_aggregate(round_id=round1.pk)
    round2 = study.rounds.get(number=2)
    round_open(rnd=round2)
    browser = login(alice)

    before = snapshot()
    page = browser.get(url(study, "bci", number=2)).content.decode()
    assert snapshot() == before  # showing the filled-in answers stores nothing
    importance = page[page.index('id="q-importance"') : page.index("</fieldset>", page.index('id="q-importance"'))]
    assert ('value="2" checked' in importance) is prefill
    assert ("Your answer in round 1, kept unless you change it." in importance) is prefill
    assert ("Keep my answers" in page) is prefill
    assert answers_of(alice, round2, "bci") == {}

    if prefill:
        # "Keep my answers" posts the form as shown: round 2 now holds her round-1 answers, and says so no more.
        form = {"expertise": "high", "importance": "2", "competitiveness": "4", "tech_year": "2031", "go": "stay"}
        assert browser.post(url(study, "bci", "save", number=2), form).status_code == 302
        assert answers_of(alice, round2, "bci") == {**answers_of(alice, round1, "bci")}
        again = browser.get(url(study, "bci", number=2)).content.decode()
        assert "kept unless you change it" not in again and 'value="2" checked' in again
