"""The resolver against the one table of URL cases, plus parse_id and mirror_path."""

from __future__ import annotations

import re

import pytest

from papermirror import ids, urlforms
from papermirror.ids import PaperRef, mirror_path, parse_id, resolve
from papermirror.listing_urls import listing_target
from tests.conftest import load_url_cases

CASES = load_url_cases()
RESOLVING = [c for c in CASES if c["expect"]]


def as_strings(refs: list[PaperRef]) -> list[str]:
    return [str(r) for r in refs]


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:120] for c in CASES])
def test_table(case):
    assert as_strings(resolve(case["input"])) == case["expect"]


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:120] for c in CASES])
def test_listing_column(case):
    target = listing_target(case["input"])
    assert (target.path if target else None) == case.get("listing")


@pytest.mark.parametrize("case", RESOLVING, ids=[c["input"][:120] for c in RESOLVING])
def test_round_trip_through_mirror_path(case):
    refs = resolve(case["input"])
    assert resolve(mirror_path(refs)) == refs
    assert resolve("https://papers.cool" + mirror_path(refs)) == refs


def test_table_shape():
    assert len(CASES) >= 200
    inputs = [c["input"] for c in CASES]
    assert len(inputs) == len(set(inputs)), "duplicate inputs"
    for case in CASES:
        assert set(case) <= {"input", "expect", "note", "listing"}, case
        assert not (case.get("listing") and case["expect"]), case
        assert isinstance(case["input"], str) and isinstance(case["expect"], list)
        for ref in case["expect"]:
            # Expectations are written canonically, so they are also parse_id's output.
            assert str(parse_id(ref)) == ref, ref


# --- parse_id -------------------------------------------------------------------------------

GOOD = {
    "2104.12255": PaperRef("2104.12255"),
    "2104.12255v2": PaperRef("2104.12255", 2),
    "hep-th/9901001": PaperRef("hep-th/9901001"),
    "math.GT/0309136v1": PaperRef("math/0309136", 1),
    "1406.02661": PaperRef("1406.2661"),
    "solv-int/9901001v1": PaperRef("solv-int/9901001", 1),
    "cond-mat.stat-mech/0601001": PaperRef("cond-mat/0601001"),
    " 2101.00001 ": PaperRef("2101.00001"),
    "2209.03003v11": PaperRef("2209.03003", 11),
    "9912.12345": PaperRef("9912.12345"),
    "0811.36489": PaperRef("0811.36489"),
    "0704.0001": PaperRef("0704.0001"),
}
BAD = [
    "",
    "v2",
    "arXiv:2104.12255",
    "https://arxiv.org/abs/2104.12255",
    "2104.12255 2104.12256",
    "2104.12255,2104.12256",
    "2104.12255v",
    "2104.12255v0",
    "2104.1225",
    "1406.26610",
    "0703.0001",
    "2113.00001",
    "cs.AI",
    "hep-th/990100",
    "physics/9707012v",
    "٢١٠١.٠٠٠٠١",
    "2104.12255" + "0" * 100,
]


@pytest.mark.parametrize("text", GOOD, ids=list(GOOD))
def test_parse_id(text):
    assert parse_id(text) == GOOD[text]


@pytest.mark.parametrize("text", BAD, ids=[b[:40] for b in BAD])
def test_parse_id_rejects(text):
    assert parse_id(text) is None


# --- mirror_path and PaperRef ---------------------------------------------------------------


def test_mirror_path():
    assert mirror_path([PaperRef("hep-th/9901001", 2)]) == "/arxiv/hep-th/9901001v2"
    refs = [PaperRef("2104.12255"), PaperRef("hep-th/9901001", 2)]
    assert mirror_path(refs) == "/arxiv/2104.12255,hep-th/9901001v2"
    assert mirror_path(tuple(refs)) == mirror_path(refs)


def test_mirror_path_needs_a_ref():
    with pytest.raises(ValueError):
        mirror_path([])


def test_paper_ref_is_a_value():
    assert PaperRef("2101.00001", 2) == PaperRef("2101.00001", 2)
    assert PaperRef("2101.00001") != PaperRef("2101.00001", 1)
    assert len({PaperRef("2101.00001"), PaperRef("2101.00001")}) == 1
    assert str(PaperRef("math/0309136")) == "math/0309136"
    with pytest.raises(AttributeError):
        PaperRef("2101.00001").id = "x"  # type: ignore[misc]


# --- limits ---------------------------------------------------------------------------------


def test_only_the_first_max_input_characters_are_read():
    junk = "x" * ids.MAX_INPUT
    assert resolve(junk + " 2101.00001") == []
    assert resolve("2101.00001 " + junk * 10) == [PaperRef("2101.00001")]


def test_enormous_inputs_resolve():
    # Many URL-ish tokens and nesting markers; the point is that it returns at all.
    text = ("https://a.example/?u=https://arxiv.org/abs/2101.00001&" * 5000)[:1_000_000]
    assert resolve(text) == [PaperRef("2101.00001")]
    assert resolve("%25" * 100_000) == []


def test_nesting_deeper_than_the_limit_is_not_followed():
    def nest(hosts: str) -> str:
        return (
            "".join(f"https://{h}.example/?u=" for h in hosts) + "https://arxiv.org/abs/2101.00001"
        )

    assert resolve(nest("abcd")) == [PaperRef("2101.00001")]
    assert resolve(nest("abcde")) == []


# --- the table of URL forms is data ---------------------------------------------------------


def test_every_row_names_a_paper():
    for hosts, pattern in urlforms.ROWS:
        assert hosts and all(h == h.lower() for h in hosts), hosts
        assert re.search(r"\{(idv|new|list)\}|\(\?P<(yymm|arch)>", pattern), pattern
        assert pattern.startswith(("/", "(?:/")), pattern


def test_archives_are_the_old_scheme():
    assert len(urlforms.ARCHIVES) == len(set(urlforms.ARCHIVES)) == 34
    for archive in urlforms.ARCHIVES:
        assert parse_id(f"{archive}/0101001") == PaperRef(f"{archive}/0101001")
