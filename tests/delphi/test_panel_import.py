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
