"""How every published number is rounded and printed: one rule, no Django import.

A figure is stored at full precision (floats rounded to 10 decimals, as ``RoundStat`` and the
scoring results keep them) and published at the precision of its *kind*. The page, the chart
labels and tooltips, the entries CSV and the edition JSON all go through this module, so they
agree to the digit.

Rounding is half away from zero on the value's decimal representation: ``Decimal(repr(value))``
quantized with ``ROUND_HALF_UP``. So an importance index stored as 56.25 is 56.3 everywhere, and
2.675 (whose binary float is 2.67499999…) is 2.68 at two decimals, as a reader who sees "2.675"
expects. Python's ``f"{x:.1f}"`` (half to even, on the binary value) would print 56.2 and 2.67.

``PRECISION`` — decimals per kind of figure:

===============  ========  ==================================================================
kind             decimals  figures
===============  ========  ==================================================================
``index``        1         0–100 indices (importance, competitiveness, high-expertise,
                           expertise-weighted, per sector), the gap between sector indices,
                           the competitiveness-gap criterion
``score``        3         the weighted score 0–1
``probability``  2         P(top-k) from the bootstrap
``share``        3         shares 0–1 (response rate, attrition, "already" / "never",
                           top-2 box, changed answers, criterion weights); shown as a percent
                           with 1 decimal: ``34.7 %``
``rank``         1         rank interval bounds (5 % / 95 %) and the median bootstrap rank
``quantile``     2         medians, quartiles and IQR of scale answers, ΔIQR
``year``         1         median and quartiles of years; years left in the plan period
                           (the timing criterion)
``coefficient``  3         Kendall's W, the AHP consistency ratio
``statistic``    2         test statistics (χ²)
``p_value``      3         p-values; one below 0.0005 is shown as ``< 0.001``
``value``        2         other criterion values on their own scale (scenario pull,
                           policy list)
``similarity``   3         the cosine similarity 0–1 of the similarity service
                           (``foresight.core.similarity``)
``count``        0         respondents, answers (published as an ``int``)
===============  ========  ==================================================================

Display conventions (``display``): always the kind's number of decimals (``56.0``, ``0.410``,
``4.00`` — no trailing zeros stripped, so a column lines up and the text is what the CSV holds);
digits and a full stop whatever the interface language, no thousands separator, ASCII minus; a
percent as the number, a space and ``%``; ``–`` (en dash) for a figure that is not there.

Axis ticks and settings (cut points, the plan end year) are not figures: ``plain`` prints them
in their shortest form (``50``, ``62.5``, ``2030``).

Used by ``foresight.core.templatetags.figures`` (the ``figure`` and ``percent`` template filters),
``foresight.priorities`` (views, selectors, charts, workbench, exports, API, publish), the
Delphi staff console and the similarity service. Not used by the staff reproducibility package, which keeps full precision.
"""

from __future__ import annotations

import math
import numbers
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

PRECISION: Final[dict[str, int]] = {
    "index": 1,
    "score": 3,
    "probability": 2,
    "share": 3,
    "rank": 1,
    "quantile": 2,
    "year": 1,
    "coefficient": 3,
    "statistic": 2,
    "p_value": 3,
    "value": 2,
    "similarity": 3,
    "count": 0,
}
MISSING: Final = "–"


def _decimal(value: object) -> Decimal:
    """The exact decimal a reader would see for ``value``: ``repr`` of a float, the integer itself."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise TypeError(f"a figure must be a number, got {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        exact = value
    elif isinstance(value, numbers.Integral):
        exact = Decimal(int(value))
    else:
        # float(): a NumPy float's repr is "np.float64(…)"; the float itself prints its shortest digits.
        exact = Decimal(repr(float(value)))
    if not exact.is_finite():
        raise ValueError(f"a figure must be finite, got {value!r}")
    return exact


def _places(kind: str) -> int:
    try:
        return PRECISION[kind]
    except KeyError:
        raise ValueError(f"unknown kind of figure {kind!r}; one of {', '.join(PRECISION)}") from None


def quantize(value: object, kind: str) -> Decimal | None:
    """``value`` rounded half away from zero to the decimals of ``kind``, as a ``Decimal`` that keeps them
    (``Decimal("56.30")`` prints as ``56.30``); ``None`` stays ``None``. The one rounding of this module."""
    places = _places(kind)
    if value is None:
        return None
    rounded = _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded.is_zero() else rounded  # never "-0.0"


def publish(value: object, kind: str) -> float | int | None:
    """The published value of a figure: rounded as ``quantize`` does; an ``int`` for counts and other
    kinds without decimals, else a ``float``; ``None`` stays ``None``. Booleans and text raise ``TypeError``."""
    rounded = quantize(value, kind)
    if rounded is None:
        return None
    if kind == "count" or _places(kind) == 0:
        return int(rounded)
    return float(rounded)


def display(value: object, kind: str, *, percent: bool = False) -> str:
    """The published value as text: the kind's decimals, ``–`` for ``None``.

    ``percent=True`` shows a 0–1 figure as a percent with two decimals fewer than the kind has
    (a share, 3 decimals: ``0.3466`` → ``34.7 %``; a probability: ``0.873`` → ``87 %``); it is the
    same published number, times 100. A kind with fewer than 2 decimals raises ``ValueError``.
    """
    rounded = quantize(value, kind)
    if rounded is None:
        return MISSING
    if kind == "p_value" and rounded.is_zero() and _decimal(value) > 0:
        return "< 0.001"
    if percent:
        if _places(kind) < 2:
            raise ValueError(f"a {kind} is not a 0–1 figure: it cannot be shown as a percent")
        places = _places(kind) - 2
        return f"{rounded.scaleb(2).quantize(Decimal(1).scaleb(-places)):f} %"
    return f"{rounded:f}"


def plain(value: object) -> str:
    """A number that is not a published figure (an axis tick, a cut point, a year setting) in its
    shortest form: ``50.0`` → ``50``, ``62.5`` → ``62.5``; ``–`` for ``None``."""
    if value is None:
        return MISSING
    exact = _decimal(value)
    if exact.is_zero():
        return "0"
    if exact == exact.to_integral_value():
        return f"{exact:.0f}"
    return f"{exact.normalize():f}"


def is_figure(value: object) -> bool:
    """A number that ``publish`` takes (not a bool, not NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return False
    return math.isfinite(float(value))
