"""CSV import of a panel: a per-row error report, and nothing stored when any row is bad."""

from __future__ import annotations

import pytest

from foresight.delphi.models import Expert, Participant, Study
from foresight.delphi.services.panel import panel_import_csv

pytestmark = pytest.mark.django_db

GOOD = "email,name,sector,country,organisation,areas\nada@example.org,Ada,university,GB,Uni,quantum-information\nlin@example.org,Lin Wei,company,CN,Co,intelligent-robots;ai-computing\n"


def test_a_good_file_builds_the_panel(study: Study) -> None:
    report = panel_import_csv(study=study, data=GOOD.encode())
    assert report.ok and report.created == 2
    assert Participant.objects.filter(study=study).count() == 2
    pseudonyms = list(Participant.objects.values_list("pseudonym", flat=True))
    assert all(p.startswith("P-") for p in pseudonyms) and len(set(pseudonyms)) == 2
    assert set(Expert.objects.get(email="lin@example.org").areas.values_list("slug", flat=True)) == {
        "intelligent-robots",
        "ai-computing",
    }


def test_importing_twice_adds_nobody(study: Study) -> None:
    panel_import_csv(study=study, data=GOOD.encode())
    report = panel_import_csv(study=study, data=GOOD.encode())
    assert report.created == 0 and report.existing == 2
    assert Participant.objects.count() == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("not-an-email,X,university,CN,,", "invalid e-mail"),
        ("x@example.org,X,alien,CN,,", "sector must be"),
        ("x@example.org,X,company,CHN,,", "two-letter"),
        ("x@example.org,X,company,CN,,no-such-area", "unknown area"),
        ('x@example.org,=HYPERLINK("http://evil"),company,CN,,', "formula"),
        ("x@example.org,=²,company,CN,,", "formula"),  # a digit to str.isdigit(), not a number
        ("x@example.org,-٣,company,CN,,", "formula"),
        ("x@example.org,,company,CN,,", "name"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_stored(study: Study, row: str, message: str) -> None:
    data = (GOOD + row + "\n").encode()
    report = panel_import_csv(study=study, data=data)
    assert not report.ok
    assert report.errors[0][0] == 4
    assert message in report.errors[0][1]
    assert not Expert.objects.exists()
    assert not Participant.objects.exists()


def test_wrong_encoding_and_missing_columns(study: Study) -> None:
    assert (
        "UTF-8"
        in panel_import_csv(study=study, data="email,name,sector\nü@x.org,Jürgen,company\n".encode("latin-1")).errors[
            0
        ][1]
    )
    assert "Missing column" in panel_import_csv(study=study, data=b"mail,who\nx,y\n").errors[0][1]
    assert not Expert.objects.exists()


def test_optional_language_and_time_zone_columns(study: Study) -> None:
    data = (
        "email,name,sector,language,timezone\n"
        "ada@example.org,Ada,university,en,Europe/London\n"
        "lin@example.org,Lin Wei,company,zh_Hans,Asia/Shanghai\n"
        "kim@example.org,Kim,company,,\n"
    )
    report = panel_import_csv(study=study, data=data.encode())
    assert report.ok, report.errors
    experts = {e.email: (e.language, e.timezone) for e in Expert.objects.all()}
    assert experts == {
        "ada@example.org": ("en", "Europe/London"),
        "lin@example.org": ("zh-hans", "Asia/Shanghai"),
        "kim@example.org": ("", ""),  # the site's language and time zone
    }
    # A later file fills a language the expert did not have, and changes none she has.
    panel_import_csv(
        study=study,
        data=b"email,name,sector,language\nkim@example.org,Kim,company,zh\nada@example.org,Ada,university,zh\n",
    )
    assert Expert.objects.get(email="kim@example.org").language == "zh-hans"
    assert Expert.objects.get(email="ada@example.org").language == "en"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("x@example.org,X,company,fr,", "language must be one of en, zh-hans"),
        ("x@example.org,X,company,en,Mars/Base", "unknown time zone"),
    ],
)
def test_a_bad_language_or_time_zone_is_reported(study: Study, row: str, message: str) -> None:
    report = panel_import_csv(study=study, data=f"email,name,sector,language,timezone\n{row}\n".encode())
    assert not report.ok and message in report.errors[0][1]
    assert not Expert.objects.exists()
