"""The one rule for published numbers (foresight.numbers): plain values in, the digits a reader sees out."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from django.template import Context, Template

from foresight import numbers
from foresight.numbers import display, plain, publish


def test_ties_round_half_away_from_zero_on_the_decimal_a_reader_sees() -> None:
    # 56.25 and 0.125 are exact binary fractions: Python's format rounds them half to even.
    assert f"{56.25:.1f}" == "56.2" and f"{0.125:.2f}" == "0.12"
    assert publish(56.25, "index") == 56.3 and display(56.25, "index") == "56.3"
    assert publish(0.125, "probability") == 0.13 and display(0.125, "probability") == "0.13"
    # 2.675 is stored as 2.67499999…: rounding the binary value gives 2.67; the decimal a reader sees is 2.675.
    assert f"{2.675:.2f}" == "2.67"
    assert publish(2.675, "quantile") == 2.68 and display(2.675, "quantile") == "2.68"
    assert publish(-2.675, "quantile") == -2.68  # away from zero, on both sides
    assert publish(56.2499999999, "index") == 56.2  # not a tie: stored to 10 decimals, read as stored


def test_each_kind_has_its_fixed_number_of_decimals() -> None:
    assert display(56.0, "index") == "56.0"
    assert display(0.41, "score") == "0.410"
    assert display(4, "quantile") == "4.00"
    assert display(3, "rank") == "3.0" and display(7.5, "rank") == "7.5"
    assert display(2031.5, "year") == "2031.5"
    assert display(1234.0, "count") == "1234"  # no thousands separator
    assert set(numbers.PRECISION) >= {"index", "score", "probability", "share", "rank", "quantile", "year", "count"}


def test_counts_and_whole_kinds_publish_integers_others_floats() -> None:
    assert publish(12.0, "count") == 12 and isinstance(publish(12.0, "count"), int)
    assert isinstance(publish(12, "index"), float)
    assert json.dumps([publish(56.25, "index"), publish(7, "count"), publish(None, "rank")]) == "[56.3, 7, null]"


def test_publishing_twice_changes_nothing_and_the_text_is_the_published_number() -> None:
    for value, kind in [(56.25, "index"), (0.1234567891, "score"), (2.675, "quantile"), (0.3466666667, "share")]:
        once = publish(value, kind)
        assert publish(once, kind) == once
        assert display(once, kind) == display(value, kind)
        assert float(display(value, kind)) == once


def test_none_is_a_dash_and_never_a_zero() -> None:
    assert publish(None, "index") is None
    assert display(None, "index") == "–" and display(None, "share", percent=True) == "–"
    assert numbers.quantize(None, "count") is None


@pytest.mark.parametrize("value", [True, False, "56.25", b"1", [1.0]])
def test_text_and_booleans_are_not_figures(value: object) -> None:
    with pytest.raises(TypeError):
        publish(value, "index")
    with pytest.raises(TypeError):
        display(value, "index")


def test_unknown_kinds_and_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        publish(1.0, "percentage")
    with pytest.raises(ValueError, match="finite"):
        publish(float("nan"), "index")
    with pytest.raises(ValueError, match="percent"):
        display(56.25, "index", percent=True)


def test_shares_are_shown_as_percent_with_one_decimal() -> None:
    assert display(0.3466666667, "share", percent=True) == "34.7 %"
    assert display(0.34650, "share", percent=True) == "34.7 %"  # 0.3465 → 0.347 → 34.7
    assert display(1, "share", percent=True) == "100.0 %"
    assert display(0, "share", percent=True) == "0.0 %"
    assert display(0.873, "probability", percent=True) == "87 %"


def test_numpy_decimal_and_negative_zero_inputs() -> None:
    assert publish(np.float64(2.675), "quantile") == 2.68
    assert publish(np.int64(9), "count") == 9
    assert publish(Decimal("0.125"), "probability") == 0.13
    assert display(-0.04, "index") == "0.0"  # never "-0.0"


def test_small_p_values_are_bounded_not_zero() -> None:
    assert display(0.0004, "p_value") == "< 0.001"
    assert display(0.0005, "p_value") == "0.001"
    assert display(0.0, "p_value") == "0.000"


def test_settings_and_ticks_print_in_their_shortest_form() -> None:
    assert plain(50.0) == "50" and plain(62.5) == "62.5" and plain(2030) == "2030" and plain(-0.0) == "0"
    assert plain(None) == "–"


def test_the_template_filters_print_the_same_text_in_every_language() -> None:
    from django.utils import translation

    template = Template(
        '{% load figures %}{{ a|figure:"index" }}|{{ b|percent }}|{{ c|figure:"rank" }}|{{ p|percent:"probability" }}'
        "|{{ cut|plain }}|{{ missing|figure:'index' }}"
    )
    context = {"a": 56.25, "b": 0.34666, "c": None, "p": 0.125, "cut": 62.5}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert template.render(Context(context)) == "56.3|34.7 %|–|13 %|62.5|–"
