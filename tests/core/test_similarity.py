"""The similarity service (foresight.core.similarity): the engine on plain documents, the cache of an index
by corpus version, and its quality on the labelled paraphrases of the curated catalog
(tests/data/similarity_pairs.yaml), which must stay above a floor: a broken analyser fails here."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from foresight.core import similarity
from foresight.core.similarity import Corpus, Index, Match, mean_reciprocal_rank, recall_at

PAIRS = Path(__file__).resolve().parents[1] / "data" / "similarity_pairs.yaml"

# A few entries as a proposer's exchange might hold them: English and Chinese in one text, or one language.
DOCUMENTS = [
    ("battery-swap", "Battery swapping stations for electric scooters\n电动两轮车换电站，两分钟换好电池"),
    ("cold-chain", "Cold-chain logistics with temperature sensors on every pallet\n全程温控的冷链物流"),
    ("crop-drones", "Drones that spray pesticide over rice paddies\n植保无人机在稻田喷洒农药"),
    ("grid-storage", "Grid-scale storage of wind and solar power in flow batteries\n液流电池储存风电和光伏电力"),
    ("hospital-robots", "Robots that deliver medicines between hospital wards\n在病区之间配送药品的医院物流机器人"),
    ("english-only", "A marketplace for second-hand industrial machinery"),
    ("chinese-only", "城市地下管网的智能巡检与漏损监测"),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(DOCUMENTS)


def codes(matches: list[Match]) -> list[str]:
    return [m.code for m in matches]


def test_an_exact_text_is_found_first_with_a_score_of_one(index: Index) -> None:
    text = dict(DOCUMENTS)["cold-chain"]
    best = index.search(text, limit=3)[0]
    assert best == Match("cold-chain", 1.0)


def test_an_english_paraphrase_finds_its_entry(index: Index) -> None:
    assert codes(index.search("swap the battery of an e-scooter at a station", limit=3))[0] == "battery-swap"
    assert codes(index.search("robotic delivery of drugs inside a hospital", limit=3))[0] == "hospital-robots"


def test_chinese_without_spaces_finds_its_entry(index: Index) -> None:
    # No word boundaries to split on: the character n-grams still meet.
    assert codes(index.search("用无人机给水稻打药", limit=3))[0] == "crop-drones"
    assert codes(index.search("地下管道漏水的自动巡检", limit=3))[0] == "chinese-only"
    assert codes(index.search("冷链运输温度监控", limit=3))[0] == "cold-chain"


def test_a_mixed_language_query_finds_the_bilingual_entry(index: Index) -> None:
    assert codes(index.search("flow battery 储能 for wind farms", limit=3))[0] == "grid-storage"
    assert codes(index.search("电动scooter换电", limit=3))[0] == "battery-swap"


def test_full_width_letters_and_capitals_read_as_their_plain_forms() -> None:
    index = Index([("ai-chips", "AI 芯片"), ("other", "something else entirely")])
    assert index.search("ＡＩ　芯片", limit=1) == index.search("ai 芯片", limit=1) == [Match("ai-chips", 1.0)]


def test_scores_are_between_0_and_1_with_three_decimals_best_first(index: Index) -> None:
    matches = index.search("batteries for storing solar power", limit=10)
    assert matches and len(matches) <= 10
    assert all(0 < m.score <= 1 and round(m.score, 3) == m.score for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_ties_are_broken_by_code_whatever_the_order_given() -> None:
    twins = [("b-twin", "hydrogen trucks"), ("a-twin", "hydrogen trucks"), ("c-twin", "hydrogen trucks")]
    assert codes(Index(twins).search("hydrogen trucks", limit=2)) == ["a-twin", "b-twin"]
    assert codes(Index(list(reversed(twins))).search("hydrogen trucks", limit=3)) == ["a-twin", "b-twin", "c-twin"]


def test_a_tie_in_the_published_score_is_won_by_code_even_from_below_the_limit() -> None:
    # Raw cosines 0.4996 and 0.5004 both publish 0.5: the smaller code comes first, though its raw score is
    # lower and a plain top-1 of the raw scores would not even have looked at it.
    scores = np.array([0.4996, 0.5004, 0.1, 0.0], dtype=np.float32)
    assert similarity.top(scores, ["a", "b", "c", "d"], limit=1) == [Match("a", 0.5)]
    assert similarity.top(scores, ["a", "b", "c", "d"], limit=5) == [Match("a", 0.5), Match("b", 0.5), Match("c", 0.1)]


def test_the_limit_is_the_most_results_and_nothing_shared_is_nothing_found(index: Index) -> None:
    assert len(index.search("battery", limit=2)) == 2
    assert index.search("battery", limit=0) == []
    assert index.search("", limit=5) == []
    assert index.search("ｘｙｚｑ", limit=5) == []


def test_an_empty_corpus_and_a_corpus_without_chinese_answer_without_error() -> None:
    assert Index([]).search("anything", limit=5) == []
    assert Index([("blank", "   ")]).search("anything", limit=5) == []
    english = Index([("a", "quantum computers"), ("b", "gene therapy")])
    assert codes(english.search("quantum", limit=5))[0] == "a"
    assert english.search("量子计算机", limit=5) == []


# --- The cache of an index, by corpus version ------------------------------------------------------


class Shelf:
    """A corpus in a list, with a version bumped by hand and a count of the times it was read."""

    def __init__(self, documents: list[tuple[str, str]]) -> None:
        self.documents = list(documents)
        self.version = 1
        self.loads = 0

    def load(self) -> list[tuple[str, str]]:
        self.loads += 1
        return list(self.documents)


@pytest.fixture
def shelf() -> Any:
    shelf = Shelf(DOCUMENTS)
    similarity.corpus_register(Corpus("test-shelf", documents=shelf.load, version=lambda: shelf.version))
    yield shelf
    similarity._slots.pop("test-shelf", None)


def test_an_index_is_built_once_and_kept_while_the_version_stands(shelf: Shelf) -> None:
    for _ in range(3):
        assert codes(similarity.corpus_search("test-shelf", "冷链", limit=1)) == ["cold-chain"]
    assert shelf.loads == 1


def test_a_new_version_rebuilds_the_index_so_no_search_sees_an_old_corpus(shelf: Shelf) -> None:
    assert "hydrogen" not in codes(similarity.corpus_search("test-shelf", "hydrogen refuelling", limit=3))
    shelf.documents.append(("hydrogen", "Hydrogen refuelling stations for buses\n公交车加氢站"))
    shelf.documents.remove(("cold-chain", dict(DOCUMENTS)["cold-chain"]))
    # Until the version moves, the index is the one built (the version is the corpus's promise).
    assert shelf.loads == 1
    shelf.version = 2
    assert codes(similarity.corpus_search("test-shelf", "hydrogen refuelling", limit=3))[0] == "hydrogen"
    assert "cold-chain" not in codes(similarity.corpus_search("test-shelf", "冷链物流", limit=10))
    assert shelf.loads == 2


def test_a_large_corpus_is_rebuilt_in_the_background_while_searches_use_the_index_they_have(
    shelf: Shelf, settings: Any
) -> None:
    settings.SIMILARITY_SYNC_REBUILD_MAX = 1  # every corpus counts as large
    assert codes(similarity.corpus_search("test-shelf", "冷链", limit=1)) == ["cold-chain"]  # the first build waits
    release = threading.Event()
    loaded = shelf.load

    def slow_load() -> list[tuple[str, str]]:
        release.wait(timeout=60)
        return loaded()

    similarity._slots["test-shelf"].corpus = Corpus("test-shelf", documents=slow_load, version=lambda: shelf.version)
    shelf.documents.append(("hydrogen", "Hydrogen refuelling stations for buses\n公交车加氢站"))
    shelf.version = 2
    # The build is held back: searches answer at once from the index they have, and start one build only.
    for _ in range(3):
        assert "hydrogen" not in codes(similarity.corpus_search("test-shelf", "hydrogen refuelling", limit=3))
    rebuilding = similarity._slots["test-shelf"].rebuilding
    assert rebuilding is not None and rebuilding.is_alive()
    release.set()
    rebuilding.join(timeout=60)
    assert not rebuilding.is_alive() and shelf.loads == 2
    assert codes(similarity.corpus_search("test-shelf", "hydrogen refuelling", limit=3))[0] == "hydrogen"
    assert shelf.loads == 2


def test_an_unknown_corpus_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no similarity corpus named 'nothing'"):
        similarity.corpus_search("nothing", "text")


def test_recall_and_reciprocal_rank_count_what_they_say() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "z", "b"], ["q"]]
    expected = ["a", "b", "b"]
    assert recall_at(ranked, expected, k=3) == pytest.approx(1 / 3)
    assert recall_at(ranked, expected, k=4) == pytest.approx(2 / 3)
    assert mean_reciprocal_rank(ranked, expected) == pytest.approx((1 + 1 / 4 + 0) / 3)
    with pytest.raises(ValueError):
        recall_at([], [], k=3)


# --- Quality on the labelled paraphrases of the curated catalog --------------------------------------

# Measured with the curated catalog (topics: 86 queries, scenarios: 36): recall@3 0.977 and 1.000, MRR 0.966
# and 0.958; Chinese queries alone 1.000 and 1.000. The floors leave room for a change to the catalog's
# text, not for a broken analyser: a word analyser (no n-grams) finds 2 % of the Chinese topic queries.
RECALL_FLOOR = 0.90
MRR_FLOOR = 0.85
CHINESE_RECALL_FLOOR = 0.85


def labelled() -> dict[str, list[dict[str, str]]]:
    data: dict[str, list[dict[str, str]]] = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))
    return data


def test_the_labelled_set_is_large_bilingual_and_written_for_the_test(catalog: Any) -> None:
    from foresight.catalog.selectors import topic_similarity_documents
    from scenarios.selectors import scenario_similarity_documents

    pairs = labelled()
    everything = [p for corpus in pairs.values() for p in corpus]
    assert len(everything) >= 40
    assert sum(p["lang"] == "zh" for p in everything) >= 20
    assert len({p["query"] for p in everything}) == len(everything)
    texts = {"topics": dict(topic_similarity_documents()), "scenarios": dict(scenario_similarity_documents())}
    for corpus, queries in pairs.items():
        for p in queries:
            assert p["expected"] in texts[corpus], p  # a public topic or a published scenario
            # Not copied: no query is a line (a name, a statement, a title …) of the catalog, nor part of one.
            assert not any(p["query"].lower() in line.lower() for line in texts[corpus][p["expected"]].splitlines())


@pytest.mark.parametrize("corpus", ["topics", "scenarios"])
def test_paraphrases_find_their_entry_in_the_first_three(catalog: Any, corpus: str) -> None:
    pairs = labelled()[corpus]
    ranked = [codes(similarity.corpus_search(corpus, p["query"], limit=10)) for p in pairs]
    expected = [p["expected"] for p in pairs]
    recall, mrr = recall_at(ranked, expected, k=3), mean_reciprocal_rank(ranked, expected)
    chinese = [(r, p["expected"]) for r, p in zip(ranked, pairs, strict=True) if p["lang"] == "zh"]
    chinese_recall = recall_at([r for r, _ in chinese], [e for _, e in chinese], k=3)
    misses = [
        (p["query"], p["expected"], r[:3]) for r, p in zip(ranked, pairs, strict=True) if p["expected"] not in r[:3]
    ]
    assert recall >= RECALL_FLOOR, (recall, misses)
    assert mrr >= MRR_FLOOR, mrr
    assert chinese_recall >= CHINESE_RECALL_FLOOR, (chinese_recall, misses)
