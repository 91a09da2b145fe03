"""Per-direction and per-area summaries are built from released topic figures only, computed by hand here."""

from __future__ import annotations

from foresight.priorities.summaries import summarise


def _report(tech: float | None, social: float | None, measures: dict[str, int] | None, n: int | None) -> dict:
    items: dict = {"tech_year": {"median": tech}, "social_year": {"median": social}}
    items["policy_measures"] = {"n": n, "counts": measures} if measures is not None else {"n": None}
    return {"items": items}


def test_a_summary_counts_tiers_takes_the_median_of_released_medians_and_sums_released_counts() -> None:
    entries = [
        ("health", "priority", _report(2030.0, 2035.0, {"rd_funding": 6, "standards": 2, "other": 0}, 8)),
        ("health", "key", _report(2034.5, None, {"rd_funding": 3, "standards": 5, "human_resources": 5}, 10)),
        ("health", "insufficient", _report(None, None, None, None)),  # nothing released: counted as a topic only
        ("energy", "watch", _report(2041.0, 2045.0, {"standards": 7}, 7)),
    ]
    health, energy = summarise(entries)
    assert (health.key, health.topics) == ("health", 3)
    assert health.tiers == {"priority": 1, "key": 1, "watch": 0, "insufficient": 1}
    assert health.years["tech_year"] == ((2030.0 + 2034.5) / 2, 2)
    assert health.years["social_year"] == (2035.0, 1)
    # 9 mentions of R&D funding, 7 of standards, 5 of human resources, over 18 respondents; "other" never cited.
    assert health.cited["policy_measures"] == [
        ("rd_funding", 9, 9 / 18),
        ("standards", 7, 7 / 18),
        ("human_resources", 5, 5 / 18),
    ]
    assert health.cited["implementation_barriers"] == []
    assert energy.tiers["watch"] == 1 and energy.cited["policy_measures"] == [("standards", 7, 1.0)]
