"""The similarity service: the documents of a corpus most like a text, in English, Chinese or both.

Used for near-duplicate detection (a proposer and a curator see the most similar existing entries) and
by the public API (``/api/v1/topics/similar/``, ``/api/v1/scenarios/similar/``). Nothing is downloaded at
run time and no word segmenter is needed.

Method: TF-IDF over character n-grams (scikit-learn), cosine similarity.

1. Text is normalised: NFKC (full-width letters, digits and punctuation become their ASCII forms, so
   ``ＡＩ`` and ``AI`` are one word) and lower case.
2. Two analysers, whose vectors are joined (``FeatureUnion``):

   - ``char_wb`` 2- to 4-grams: n-grams inside each run of non-space characters, padded with a space at
     its ends. English words match on their stems and fragments (``batter`` in *battery* and
     *batteries*, ``robot`` in *robotic*), and a run of Chinese, which has no spaces, gives its 2-, 3-
     and 4-character n-grams;
   - the single characters and character pairs of each run of Chinese characters: one character often
     carries the meaning on its own (氢 hydrogen, 脑 brain, 芯 chip), which a 2-gram needs a neighbour for.

   Each with sublinear term frequency (1 + log tf: a word repeated in a long text does not outweigh
   the rest) and smoothed idf, L2-normalised; the joined vector is normalised again.
3. The score is the cosine of the query's vector and a document's, from 0 (no n-gram in common) to 1,
   published with 3 decimals (``foresight.numbers``, kind ``similarity``). Documents that share no
   n-gram with the query are left out; ties are broken by code.

Why characters, not words: Chinese is written without spaces, and a segmenter would need a
dictionary that is either downloaded or shipped and kept up to date, and gets new technical terms
wrong; character n-grams need neither, work for both languages and mixed text in one model, and also
absorb English inflection and hyphenation. A word analyser finds almost none of the Chinese
paraphrases of the labelled set (``tests/data/similarity_pairs.yaml``); its measured quality is in
``BENCHMARKS.md``.

Corpora: an app registers a :class:`Corpus` — a name, a loader of ``(code, text)`` documents and a
*version*, a cheap value (one query) that changes whenever the documents do — from its
``AppConfig.ready`` (the catalog's topics, the scenarios), so this module imports no app. An index is
built on a corpus's first search and kept in the process's memory; every search reads the version first
and rebuilds the index when it differs, so a change (a topic published, a scenario made draft) is seen
by the next search in every process, with no signal to pass between them.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from foresight import numbers

# Runs of Chinese characters: CJK unified ideographs, extension A and the compatibility block.
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD_NGRAMS = (2, 4)
PLACES = numbers.PRECISION["similarity"]


def normalise(text: str) -> str:
    """The text as the analysers read it: NFKC, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def cjk_grams(text: str) -> list[str]:
    """The single characters and the pairs of neighbouring characters of each run of Chinese in ``text``."""
    grams: list[str] = []
    for run in CJK_RUN.findall(normalise(text)):
        grams.extend(run)
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def _vectoriser(*, chinese: bool) -> FeatureUnion:
    words = TfidfVectorizer(
        analyzer="char_wb", ngram_range=WORD_NGRAMS, preprocessor=normalise, sublinear_tf=True, dtype=np.float32
    )
    # A corpus without Chinese has no Chinese vocabulary to fit (scikit-learn refuses an empty one).
    cjk = TfidfVectorizer(analyzer=cjk_grams, sublinear_tf=True, dtype=np.float32) if chinese else "drop"
    return FeatureUnion([("words", words), ("cjk", cjk)])


@dataclass(frozen=True)
class Match:
    code: str
    score: float


class Index:
    """A search index over ``(code, text)`` documents; one document per code (the last one given wins).

    Kept whole in memory: the documents' unit vectors as a features × documents sparse matrix (float32),
    so that a query reads only the columns of the n-grams it has.
    """

    def __init__(self, documents: Iterable[tuple[str, str]]) -> None:
        # In code order, so that the position of a document breaks ties.
        by_code = sorted(dict(documents).items())
        self.codes: list[str] = [code for code, _ in by_code]
        texts = [text for _, text in by_code]
        self._vectoriser: FeatureUnion | None = None
        self._by_feature: Any = None
        if any(normalise(text).strip() for text in texts):
            self._vectoriser = _vectoriser(chinese=any(CJK_RUN.search(text) for text in texts))
            vectors = normalize(self._vectoriser.fit_transform(texts))
            self._by_feature = vectors.T.tocsr()

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def features(self) -> int:
        return 0 if self._by_feature is None else int(self._by_feature.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the document vectors (not counting the vocabulary)."""
        m = self._by_feature
        return 0 if m is None else int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)

    def vector(self, text: str) -> Any:
        """The unit vector of ``text`` (1 × features, sparse); ``None`` for an empty index."""
        if self._vectoriser is None:
            return None
        return normalize(self._vectoriser.transform([text]))

    def scores(self, vector: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The cosine of a query vector (from :meth:`vector`) with every document, in code order."""
        return np.asarray((vector @ self._by_feature).toarray()).ravel()

    def search(self, text: str, *, limit: int = 10) -> list[Match]:
        """The ``limit`` documents most similar to ``text``, best first, ties by code; only documents
        that share something with it (a published score above 0)."""
        vector = self.vector(text)
        if vector is None or limit < 1:
            return []
        return top(self.scores(vector), self.codes, limit=limit)


def top(scores: np.ndarray[Any, Any], codes: Sequence[str], *, limit: int) -> list[Match]:
    """The best ``limit`` published scores, ties broken by position (``codes`` is in code order)."""
    candidates = np.flatnonzero(scores > 0)
    if candidates.size > limit:
        kth = np.partition(scores[candidates], -limit)[-limit]
        # A document a little below the limit-th may publish the same rounded score and win the tie by code.
        candidates = candidates[scores[candidates] >= kth - 10.0**-PLACES]
    published = [float(numbers.publish(min(float(scores[i]), 1.0), "similarity") or 0.0) for i in candidates]
    order = sorted(range(len(candidates)), key=lambda j: (-published[j], candidates[j]))
    return [Match(codes[candidates[j]], published[j]) for j in order[:limit] if published[j] > 0]


# --- Corpora ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """A named set of documents an app offers for search.

    ``documents`` loads every ``(code, text)``; ``version`` is called before every search and must be
    cheap (one query) and change whenever a document is added, removed or edited, or leaves or joins the
    corpus (a topic made draft). It is read before the documents, so a change in between makes the next
    search rebuild again rather than keep the new documents under the old version.
    """

    name: str
    documents: Callable[[], Iterable[tuple[str, str]]]
    version: Callable[[], Hashable]


@dataclass
class _Slot:
    corpus: Corpus
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The version and the index built at it, replaced together (one assignment), so a reader never pairs
    # one version with another's index.
    built: tuple[Hashable, Index] | None = None
    rebuilding: threading.Thread | None = None


_slots: dict[str, _Slot] = {}


def corpus_register(corpus: Corpus) -> None:
    """Offer a corpus for search (from an ``AppConfig.ready``); registering a name again replaces it."""
    _slots[corpus.name] = _Slot(corpus)


def _rebuild(slot: _Slot, version: Hashable) -> None:
    """Build the index in the background, then swap it in (the thread's own database connection is closed)."""
    try:
        slot.built = (version, Index(slot.corpus.documents()))
    finally:
        connection.close()
        slot.rebuilding = None


def corpus_index(name: str) -> Index:
    """The index of the registered corpus ``name``, built afresh if its version changed since the last search.

    One version query per call; one more per document loader call when the index is rebuilt. One build at
    a time per corpus: concurrent searches wait for it rather than build it too. A large corpus (at least
    ``SIMILARITY_SYNC_REBUILD_MAX`` documents, where a build takes seconds) that changed is rebuilt in a
    background thread while searches keep using the index it has: a search may miss the latest edits for
    those seconds, never wait for them. Callers that filter results by who may see them must check the
    documents' current state, not the index's (the exchange's entries do).
    """
    try:
        slot = _slots[name]
    except KeyError:
        raise LookupError(f"no similarity corpus named {name!r}; registered: {', '.join(sorted(_slots))}") from None
    version = slot.corpus.version()
    built = slot.built
    if built is not None and built[0] == version:
        return built[1]
    with slot.lock:
        built = slot.built
        if built is not None and built[0] != version and len(built[1]) >= _sync_rebuild_max():
            if slot.rebuilding is None:
                slot.rebuilding = threading.Thread(
                    target=_rebuild, args=(slot, version), name=f"similarity-{name}", daemon=True
                )
                slot.rebuilding.start()
            return built[1]
        if built is None or built[0] != version:
            built = (version, Index(slot.corpus.documents()))
            slot.built = built
        return built[1]


def _sync_rebuild_max() -> int:
    return int(getattr(settings, "SIMILARITY_SYNC_REBUILD_MAX", 2000))


def corpus_search(name: str, text: str, *, limit: int = 10) -> list[Match]:
    """The documents of corpus ``name`` most similar to ``text`` (see :meth:`Index.search`)."""
    return corpus_index(name).search(text, limit=limit)


# --- Quality on a labelled set ---------------------------------------------------------------------


def recall_at(ranked: Sequence[Sequence[str]], expected: Sequence[str], *, k: int) -> float:
    """The share of queries whose expected code is among the first ``k`` of their ranked codes."""
    if not expected:
        raise ValueError("no labelled queries")
    return sum(code in codes[:k] for codes, code in zip(ranked, expected, strict=True)) / len(expected)


def mean_reciprocal_rank(ranked: Sequence[Sequence[str]], expected: Sequence[str]) -> float:
    """The mean of 1 / the expected code's rank (0 when it is not among the ranked codes)."""
    if not expected:
        raise ValueError("no labelled queries")
    total = 0.0
    for codes, code in zip(ranked, expected, strict=True):
        total += 1 / (list(codes).index(code) + 1) if code in codes else 0.0
    return total / len(expected)


# --- Vectors of two sets of documents in one space --------------------------------------------------


def unit_vectors(texts: Sequence[str], *, background: Sequence[str] = ()) -> Any:
    """The unit vectors (documents × features, sparse CSR, float32) of ``texts`` in one space fitted on them and
    on ``background`` (texts that only weigh the n-grams), by the search index's analysers: the cosine of two
    documents is the dot product of their rows. All zeros when no text has a character."""
    fitted = [*texts, *background]
    if not any(normalise(text).strip() for text in fitted):
        return csr_matrix((len(texts), 1), dtype=np.float32)
    vectoriser = _vectoriser(chinese=any(CJK_RUN.search(text) for text in fitted))
    vectoriser.fit(fitted)
    return normalize(vectoriser.transform(list(texts))).tocsr()
