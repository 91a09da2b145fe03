"""The reproducibility package of a round: pseudonymous responses, statistics, settings and a codebook.

Every number in ``stats.csv`` can be recomputed from ``responses.csv`` with the definitions in the
codebook (the test suite does so with an independent script).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from django.db.models import F

from foresight.core.spreadsheet import spreadsheet_text
from foresight.delphi.answers import export_value
from foresight.delphi.models import Answer, Question, Round, RoundStat
from foresight.delphi.services.studies import RULE_FIELDS

STATS_COLUMNS = [
    "topic",
    "question",
    "n",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "iqr",
    "cv",
    "index",
    "index_weighted",
    "top2",
    "bottom2",
    "rwg",
    "share_already",
    "share_never",
    "n_cant_judge",
]


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def _responses_csv(rnd: Round) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["respondent", "topic", "question", "value"])
    rows = Answer.objects.filter(response__round=rnd).values_list(
        "response__participant__pseudonym",
        "response__topic__code",
        "question__key",
        "question__qtype",
        "cant_judge",
        "value_num",
        "value_code",
        "value_codes",
        "value_text",
    )
    for pseudonym, topic, key, qtype, cant_judge, num, code, codes, text in sorted(
        rows, key=lambda r: (r[0], r[1], r[2])
    ):
        value = export_value(
            qtype=qtype, cant_judge=cant_judge, value_num=num, value_code=code, value_codes=codes or [], value_text=text
        )
        if qtype == Question.Type.TEXT:
            value = spreadsheet_text(value)  # what an expert typed never runs as a spreadsheet formula
        writer.writerow([pseudonym, topic, key, value])
    return out.getvalue()


def _stats_csv(rnd: Round) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATS_COLUMNS)
    rows = (
        RoundStat.objects.filter(round=rnd, group="all", question__qtype__in=[Question.Type.SCALE, Question.Type.YEAR])
        .select_related("topic", "question")
        .order_by("topic__code", "question__order")
    )
    for stat in rows:
        data = stat.data
        writer.writerow(
            [stat.topic.code, stat.question.key, stat.n] + [_fmt(data.get(col)) for col in STATS_COLUMNS[3:]]
        )
    return out.getvalue()


def round_settings(*, rnd: Round) -> dict[str, Any]:
    """Every setting that affects a number of this round (round.json)."""
    study = rnd.study
    questions = [
        {
            "key": q.key,
            "type": q.qtype,
            "label_en": q.label_en,
            "options": q.options,
            "max_choices": q.max_choices,
            "allow_cant_judge": q.allow_cant_judge,
            "index": q.index,
        }
        for q in Question.objects.filter(study=study).order_by("order")
    ]
    return {
        "study": study.code,
        "round": rnd.code,
        "number": rnd.number,
        "status": rnd.status,
        "opened_at": rnd.opened_at.isoformat() if rnd.opened_at else None,
        "closed_at": rnd.closed_at.isoformat() if rnd.closed_at else None,
        "aggregated_at": rnd.aggregated_at.isoformat() if rnd.aggregated_at else None,
        "checksum": rnd.checksum,
        "topics": sorted(rnd.topics.values_list("code", flat=True)),
        "settings": {name: getattr(study, name) for name in RULE_FIELDS},
        "frozen_at": study.frozen_at.isoformat() if study.frozen_at else None,
        "definitions": {
            "quantiles": "Hyndman-Fan type 7 (linear interpolation at 1+(n-1)p)",
            "sd": "sample standard deviation, divisor n-1",
            "index": "25 * (mean answer coded -2..+2 + 2), 5-point items",
            "index_weighted": "same, weighted by expertise weights",
            "top2": "share of valid answers in the two highest options",
            "rwg": "1 - s^2 / ((A^2-1)/12), truncated to [0,1]",
            "years": "'already' and 'never' excluded from year statistics",
        },
        "summary": rnd.summary,
        "questions": questions,
    }


CODEBOOK = """# Codebook

## responses.csv
- `respondent`: the per-study pseudonym of an expert (the same across rounds of one study; no identity).
- `topic`: the catalog topic code.
- `question`: the question key (see round.json `questions`).
- `value`: scale items as their numeric code (1-5 or 1-4); single choice as the option code;
  multiple choice as option codes joined by `|`; years as the year, `already` (already realised)
  or `never` (not by the horizon); free text as typed, except that text starting with `=`, `+`, `-`,
  `@`, tab, carriage return or `'` is written with one more leading `'` (spreadsheets then show it
  as text; remove exactly one leading `'` to recover what was typed); an empty value means
  "can't judge".
  One row per answered question.

## stats.csv
One row per topic x numeric question (scale and year), over all respondents who did not answer
"can't judge" (`n`). `mean`, `sd` (n-1), `median`, `q1`, `q3` (type 7 quantiles), `iqr`, `cv` = sd/mean.
Scale items: `index` = 25*(mean coded answer on -2..+2 + 2); `index_weighted` uses the expertise weights of
round.json; `top2`/`bottom2` = share in the two highest/lowest options; `rwg` as in round.json.
Year items: statistics over numeric years; `share_already`/`share_never` over all valid answers.
`n_cant_judge`: answers of "can't judge".

## round.json
Every setting that affects a number: small-cell threshold, expertise weights, consensus and stopping rules,
the question set with its options and coding, the topics of the round, and the aggregation checksum.

## scoring/<run>.json (when the round was scored)
Every finished scoring run on this round: its inputs (criterion weights or the AHP matrix with its
consistency ratio, seed, bootstrap size B, top-k, matrix thresholds, policy lists), the data
fingerprint, and the results per topic (criterion values including the fixed scenario-pull and
policy-list inputs, normalised values, score, rank, median rank, 5–95 % rank interval, P(top-k)).
With `responses.csv` these recompute every rank.

## editions/<code>.json (when an edition was published from such a run)
The published edition as the public API serves it, with its fingerprint.
"""


def round_export_package(*, rnd: Round) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("responses.csv", _responses_csv(rnd))
        zf.writestr("stats.csv", _stats_csv(rnd))
        zf.writestr("round.json", json.dumps(round_settings(rnd=rnd), indent=2, sort_keys=True, default=str))
        zf.writestr("codebook.md", CODEBOOK)
        for name, document in _priorities_documents(rnd):
            zf.writestr(name, json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False))
    return buffer.getvalue()


def _priorities_documents(rnd: Round) -> list[tuple[str, dict[str, Any]]]:
    """Scoring runs on this round and the editions published from them (staff package only)."""
    from foresight.priorities.editions import edition_entry_record
    from foresight.priorities.models import Edition, ScoringRun
    from foresight.priorities.services import scoring_run_settings

    documents: list[tuple[str, dict[str, Any]]] = []
    runs = ScoringRun.objects.filter(round=rnd, status=ScoringRun.Status.DONE).order_by("created_at")
    for run in runs:
        documents.append(
            (
                f"scoring/{run.code}.json",
                {
                    "run": run.code,
                    "fingerprint": run.fingerprint,
                    **scoring_run_settings(run),
                    "results": run.results,
                },
            )
        )
        for edition in Edition.objects.filter(scoring_run=run, status=Edition.Status.PUBLISHED).order_by("code"):
            documents.append(
                (
                    f"editions/{edition.code}.json",
                    {
                        "edition": edition.code,
                        "fingerprint": edition.fingerprint,
                        "scoring_run": run.code,
                        "replaces": edition.replaces.code if edition.replaces_id else None,
                        "published_at": edition.published_at,
                        "entries": [
                            edition_entry_record(e)
                            for e in edition.entries.select_related("topic").order_by(
                                F("rank").asc(nulls_last=True), "topic__code"
                            )
                        ],
                    },
                )
            )
    return documents
