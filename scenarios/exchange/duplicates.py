"""Near-duplicates in the scenario exchange: what an entry is close to, and merging a duplicate into the entry
it repeats.

:func:`similar_to_entry` ranks, for an entry's text (title, summary and needs, both languages), the published
catalog scenarios, the other entries of the exchange and the catalog topics, with the similarity service
(``foresight.core.similarity``: character n-gram TF-IDF, English and Chinese without a segmenter). The
proposer sees it before she submits, the curator while she reviews.

Privacy: a proposer sees only what she may read anyway — published scenarios and entries, her own
organisations' entries, public topics; another organisation's unpublished entry is never named, not even
by a lower count (the other entries are masked out of the scores before the best are picked, so a hidden
entry takes no place in the list). Curators see every entry of the corpus.

:func:`entry_merge` (curators): an open entry that repeats another is merged into it; its review thread,
topic links, sources and the entries merged into it earlier follow, and it keeps its page, which says where
it went. Refusals change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foresight.catalog.selectors import topic_similar
from foresight.core import similarity
from foresight.core.audit import audit_log
from foresight.core.errors import Conflict
from foresight.core.text import clean_text
from scenarios.exchange.entries import MAX_SOURCES, MAX_TOPICS, can_read, is_curator, require_read
from scenarios.exchange.selectors import ENTRY_CORPUS, entries_visible_in_corpus, entry_text
from scenarios.models import Entry, EntryComment, EntryTopic, Release, ReleaseItem
from scenarios.selectors import scenario_similar

Status = Entry.Status

# The best score from which the proposer is warned (and a curator's list marks the match). Chosen on the
# labelled paraphrases (tests/data/similarity_pairs.yaml), one-line queries against the curated catalog:
# the best score of a scenario that is *not* the one paraphrased stays below 0.12 for all 36 scenario
# queries (0.17 at most for the 86 topic queries, 3 of them at 0.15 or more), while 61 % of the scenario
# paraphrases and 72 % of the topic paraphrases reach 0.15 with their right answer. An entry is longer
# than a one-line query (title, summary and needs) and a duplicate entry shares more of its n-grams, so
# real duplicates land well above (0.37 and 0.47 for the English and Chinese paraphrases in
# tests/exchange/test_duplicates.py) and an unrelated entry
# stays near 0.1 (0.125 there). 0.15 warns on nearly every true duplicate and almost never on an unrelated text; the
# brief's first guess, 0.35, would miss most paraphrases written in other words.
WARN_AT = 0.15
# Topic suggestions are only suggestions: anything the text shares a little with, from this score.
TOPIC_FLOOR = 0.05
# Entries that can be merged (open and not yet published), and entries that can take a merged one in.
MERGEABLE = (Status.SUBMITTED, Status.IN_REVIEW, Status.CHANGES_REQUESTED, Status.ACCEPTED)
MERGE_TARGETS = (*MERGEABLE, Status.PUBLISHED)

KIND_LABELS = {
    "scenario": gettext_lazy("Catalog scenario"),
    "topic": gettext_lazy("Catalog topic"),
    **{kind: label for kind, label in Entry.Kind.choices},
}


@dataclass(frozen=True)
class Similar:
    """One similar thing: a catalog scenario, an entry or a topic, with its score (3 decimals)."""

    code: str
    title: str
    kind: str  # scenario, demand, capability or topic
    score: float
    url: str
    status: str = ""  # an entry's status code (only entries the viewer may see are ever listed)
    status_label: str = ""

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def is_entry(self) -> bool:
        return self.kind in Entry.Kind.values


@dataclass(frozen=True)
class Duplicates:
    """What an entry is close to: scenarios and entries (``items``, best first) and topics it does not link yet."""

    items: list[Similar] = field(default_factory=list)
    topics: list[Similar] = field(default_factory=list)

    @property
    def best(self) -> float:
        return max((s.score for s in self.items), default=0.0)

    @property
    def warn(self) -> bool:
        return self.best >= WARN_AT

    @property
    def entries(self) -> list[Similar]:
        return [s for s in self.items if s.is_entry]


def _similar_entries(
    *, entry: Entry, text: str, user: Any, curator: bool, limit: int, scenarios_shown: set[int]
) -> list[Similar]:
    """The visible entries of the corpus most similar to ``text``, best first, without ``entry`` itself, the
    entries merged into it and the published entries whose catalog scenario is listed already
    (``scenarios_shown``: their ids)."""
    index = similarity.corpus_index(ENTRY_CORPUS)
    vector = index.vector(text)
    if vector is None:
        return []
    visible = set(
        entries_visible_in_corpus(user=user, curator=curator)
        .exclude(pk=entry.pk)
        .exclude(merged_into=entry)
        .values_list("code", flat=True)
    )
    scores = index.scores(vector)
    # Every entry the viewer may not see scores 0 before the best are picked: it neither shows nor takes a place.
    scores = np.where(np.isin(np.asarray(index.codes, dtype=object), list(visible)), scores, 0.0)
    matches = similarity.top(scores, index.codes, limit=limit)
    # Read again, and checked again: an entry that left the corpus or changed hands since the index was built
    # is left out.
    found = (
        entries_visible_in_corpus(user=user, curator=curator)
        .filter(code__in=[m.code for m in matches])
        .exclude(pk=entry.pk)
        .only("code", "kind", "status", "title_en", "title_zh", "scenario_id")
        .in_bulk(field_name="code")
    )
    out = []
    for m in matches:
        other = found.get(m.code)
        if other is None or other.scenario_id in scenarios_shown:
            continue
        out.append(
            Similar(
                code=other.code,
                title=other.title,
                kind=other.kind,
                score=m.score,
                url=reverse("exchange:entry", args=[other.code]),
                status=other.status,
                status_label=str(other.get_status_display()),
            )
        )
    return out


def similar_to_entry(*, entry: Entry, user: Any, limit: int = 5) -> Duplicates:
    """The published scenarios and the entries most similar to ``entry`` (``limit`` in all, best first) and
    the public topics it is close to and does not link yet (``limit``), as ``user`` may see them (see the
    module's note on privacy). ``PermissionDenied`` if ``user`` may not read ``entry`` itself."""
    require_read(entry=entry, user=user)
    text = entry_text(entry)
    if not text.strip() or limit < 1:
        return Duplicates()
    curator = is_curator(user)
    found = [(s, score) for s, score in scenario_similar(text=text, limit=limit + 1) if s.pk != entry.scenario_id]
    scenarios = [
        Similar(code=s.code, title=s.title, kind="scenario", score=score, url=reverse("scenario-detail", args=[s.code]))
        for s, score in found
    ]
    # A published entry is also a catalog scenario: it is listed once, as the scenario (asked for as many more
    # entries as may be left out for it).
    shown = {s.pk for s, _ in found}
    others = _similar_entries(
        entry=entry, text=text, user=user, curator=curator, limit=limit + len(shown), scenarios_shown=shown
    )
    items = sorted([*scenarios, *others], key=lambda s: (-s.score, s.kind != "scenario", s.code))[:limit]
    linked = set(entry.topic_links.values_list("topic__code", flat=True))
    topics = [
        Similar(code=t.code, title=t.name, kind="topic", score=score, url=reverse("topic-detail", args=[t.code]))
        for t, score in topic_similar(text=text, limit=limit + len(linked))
        if t.code not in linked and score >= TOPIC_FLOOR
    ][:limit]
    return Duplicates(items=items, topics=topics)


# --- Merging a duplicate ------------------------------------------------------------------------------------


def _refuse_merge(entry: Entry, into: Entry) -> None:
    """Why ``entry`` cannot be merged into ``into`` now (both read under lock); nothing when it can."""
    if into.pk == entry.pk:
        raise ValidationError({"into": _("An entry cannot be merged into itself; choose the entry it repeats.")})
    if entry.status not in MERGEABLE:
        raise Conflict(
            _("This entry is %(status)s: only a submitted, in-review, sent-back or accepted entry can be merged.")
            % {"status": entry.get_status_display().lower()}
        )
    if into.merged_into_id == entry.pk:
        raise Conflict(_("%(into)s was merged into this entry: merging back would make a loop.") % {"into": into.code})
    if into.status not in MERGE_TARGETS:
        raise Conflict(
            _("%(into)s is %(status)s: merge into an entry that is submitted, in review, accepted or published.")
            % {"into": into.code, "status": into.get_status_display().lower()}
        )
    if into.kind != entry.kind:
        message = _("%(into)s is an entry of another kind: merge a duplicate into an entry of its own kind.")
        raise ValidationError({"into": message % {"into": into.code}})
    if into.organisation_id != entry.organisation_id and into.status != Status.PUBLISHED:
        raise ValidationError(
            {
                "into": _(
                    "%(into)s is another organisation's entry that is not published yet: a duplicate of it can be "
                    "merged once it is published (until then, request changes or reject it as a duplicate)."
                )
                % {"into": into.code}
            }
        )
    in_release = ReleaseItem.objects.filter(entry=entry).values_list("release__code", "release__status").first()
    if in_release and in_release[1] == Release.Status.PUBLISHED:
        raise Conflict(
            _("This entry was published in release %(release)s: withdraw it rather than merge it.")
            % {"release": in_release[0]}
        )
    if in_release:
        raise Conflict(
            _("This entry is in release %(release)s: take it out of the release first.") % {"release": in_release[0]}
        )


def merge_is_full(*, entry: Entry, into: Entry) -> bool:
    """Whether a merge moves the thread, topics and sources (into an unpublished entry of the same
    organisation) or only points to ``into`` (a published entry: it changes only through a release)."""
    return into.organisation_id == entry.organisation_id and into.status != Status.PUBLISHED


def entry_merge(*, entry: Entry, into: Entry, actor: Any, note: str = "") -> Entry:
    """A curator merges ``entry``, a duplicate, into ``into``, the entry it repeats. What follows:

    - ``entry``'s review thread moves to ``into`` (each comment keeps its author and date), and a curator's
      comment on ``into`` says what was merged ("Merged from e-…: note");
    - its topic links that ``into`` lacks are added to ``into`` (where both link a topic, ``into``'s role
      stays), up to ``MAX_TOPICS``;
    - its sources join ``into``'s (``into``'s first, no link twice), up to ``MAX_SOURCES``; what does not fit
      is named in the audit log;
    - the entries merged into ``entry`` earlier now point to ``into``;
    - ``entry`` becomes *merged*, pointing to ``into``.

    That is a merge into an unpublished entry of the same organisation. Into a published entry (the
    organisation's own, another's or a curated one) only the pointer is set: a published entry changes
    only through a release, and each organisation keeps its own review thread (another organisation's
    comments are never shown to the other side).

    Returns ``entry`` as merged. 403 for anyone but a curator; 409 when either entry's state refuses (see
    :func:`_refuse_merge`); 400 for a merge into itself or into another kind. Nothing changes on a refusal."""
    if not is_curator(actor):
        raise PermissionDenied(_("Only curators merge entries."))
    text = clean_text(note)
    if len(text) > 2000:
        raise ValidationError({"note": _("Keep the note under 2,000 characters.")})
    with transaction.atomic():
        # Both rows locked in one order, so two merges of the same pair cannot deadlock.
        locked = Entry.objects.select_for_update().filter(pk__in=[entry.pk, into.pk]).order_by("pk").in_bulk()
        source, target = locked[entry.pk], locked[into.pk]
        _refuse_merge(source, target)

        moved, topics_added, topics_dropped = 0, [], []
        sources_added, sources_dropped = [], []
        if merge_is_full(entry=source, into=target):
            moved = EntryComment.objects.filter(entry=source).update(entry=target)
            body = _("Merged from %(code)s") % {"code": source.code} + (f": {text}" if text else ".")
            EntryComment.objects.create(
                entry=target, author=actor, by_curator=True, kind=EntryComment.Kind.COMMENT, body=body[:4000]
            )

            have = set(target.topic_links.values_list("topic_id", flat=True))
            missing = [link for link in source.topic_links.select_related("topic").order_by("role", "topic__code")]
            missing = [link for link in missing if link.topic_id not in have]
            room = max(MAX_TOPICS - len(have), 0)
            EntryTopic.objects.bulk_create(
                EntryTopic(entry=target, topic_id=link.topic_id, role=link.role) for link in missing[:room]
            )
            topics_added = [link.topic.code for link in missing[:room]]
            topics_dropped = [link.topic.code for link in missing[room:]]

            urls = {s.get("url") for s in target.sources}
            new_sources = [s for s in source.sources if s.get("url") not in urls]
            room = max(MAX_SOURCES - len(target.sources), 0)
            sources_added, sources_dropped = new_sources[:room], new_sources[room:]
            if sources_added:
                target.sources = [*target.sources, *sources_added]
                target.save(update_fields=["sources", "updated_at"])
        earlier = list(Entry.objects.filter(merged_into=source).values_list("code", flat=True))
        Entry.objects.filter(merged_into=source).update(merged_into=target)

        before = source.status
        source.status = Status.MERGED
        source.merged_into = target
        source.save(update_fields=["status", "merged_into", "updated_at"])
        audit_log(
            action="entry_merge",
            actor=actor,
            entry=source.code,
            into=target.code,
            before=before,
            note=text,
            comments_moved=moved,
            topics_added=topics_added,
            topics_dropped=topics_dropped,
            sources_added=[s.get("url") for s in sources_added],
            sources_dropped=[s.get("url") for s in sources_dropped],
            merged_earlier=earlier,
        )
    return source


def merged_into_for(*, entry: Entry, user: Any) -> dict[str, Any]:
    """What a merged entry's page says about where it went: the target's code, and whether ``user`` may open
    it (a member of the merged entry's organisation may not, if it is another organisation's unpublished
    entry: she sees its code only)."""
    target = entry.merged_into
    if target is None:
        return {}
    readable = can_read(entry=target, user=user)
    return {
        "code": target.code,
        "readable": readable,
        "title": target.title if readable else "",
        "url": reverse("exchange:entry", args=[target.code]) if readable else "",
    }
