"""Property tests for the resolver: it never raises, and what it returns is canonical."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papermirror import ids, urlforms
from papermirror.categories import parse_spec
from papermirror.ids import PaperRef, mirror_path, parse_id, resolve

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def new_style(draw) -> str:
    yy = draw(st.integers(7, 99))
    mm = draw(st.integers(4 if yy == 7 else 1, 12))
    digits = 5 if (yy, mm) >= (15, 1) else 4
    num = draw(st.integers(1, 10**digits - 1))
    return f"{yy:02d}{mm:02d}.{num:0{digits}d}"


@st.composite
def old_style(draw) -> str:
    yy, mm = draw(
        st.sampled_from(
            [(y, m) for y in (*range(91, 100), *range(0, 8)) for m in range(1, 13)]
        ).filter(lambda p: (p[0] != 91 or p[1] >= 8) and (p[0] != 7 or p[1] <= 3))
    )
    archive = draw(st.sampled_from(urlforms.ARCHIVES))
    return f"{archive}/{yy:02d}{mm:02d}{draw(st.integers(1, 999)):03d}"


@st.composite
def refs(draw) -> PaperRef:
    paper_id = draw(st.one_of(new_style(), old_style()))
    return PaperRef(paper_id, draw(st.none() | st.integers(1, 99)))


URL_TEMPLATES = [
    "https://arxiv.org/abs/{}",
    "http://export.arxiv.org/pdf/{}.pdf",
    "arxiv.org/html/{}/",
    "https://www.arxiv.org/abs/{}?context=cs#S2",
    "http://xxx.lanl.gov/abs/{}",
    "https://alphaxiv.org/abs/{}",
    "arXiv:{}",
    "oai:arXiv.org:{}",
    "https://papers.cool/arxiv/{}",
    "/arxiv/{}",
]
URLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "https://",
                "http://",
                "//",
                "/",
                "?",
                "&",
                "#",
                "=",
                "%",
                "%2F",
                "%3A",
                "%25",
                ":",
                ".",
                ",",
                "v",
                "v2",
                "arxiv.org",
                "www.",
                "export.",
                "abs",
                "pdf",
                "html",
                "url=",
                "id=",
                "arxiv:",
                "oai:arXiv.org:",
                "10.48550/arXiv.",
                "hep-th",
                "math.GT",
                "papers.cool/arxiv/",
                "huggingface.co/papers/",
                "0704.0001",
                "2101.00001",
                "9901001",
                "1406.02661",
                " ",
                "\n",
            ]
        ),  # fmt: skip
        st.text(max_size=5),
    ),
    max_size=30,
).map("".join)


def check_canonical(found: list) -> None:
    assert isinstance(found, list)
    assert len(found) == len(set(found))
    for ref in found:
        assert type(ref) is PaperRef
        assert parse_id(str(ref)) == ref


@FUZZ
@given(st.text(max_size=500))
def test_never_raises_on_text(text):
    check_canonical(resolve(text))


@FUZZ
@given(URLISH)
def test_never_raises_on_urlish_text(text):
    found = resolve(text)
    check_canonical(found)
    # Canonical ids resolve to themselves, in the same order.
    if found:
        assert resolve(" ".join(map(str, found))) == found
        assert resolve(mirror_path(found)) == found


@FUZZ
@given(URLISH)
def test_percent_encoding_hides_nothing(text):
    # A URL and its encoded form (as nested in ?url=) name the same papers.
    found = resolve(text)
    if found and "%" not in text and not any(c.isspace() for c in text):
        assert resolve(quote(text, safe="")) == found


@FUZZ
@given(refs())
def test_canonical_id_round_trips(ref):
    assert parse_id(str(ref)) == ref
    assert resolve(str(ref)) == [ref]
    assert resolve(mirror_path([ref])) == [ref]


@FUZZ
@given(refs(), st.sampled_from(URL_TEMPLATES))
def test_id_in_every_url_form(ref, template):
    assert resolve(template.format(ref)) == [ref]


@FUZZ
@given(st.text(max_size=300), refs(), st.text(max_size=300))
def test_text_around_an_id_still_finds_it(before, ref, after):
    assert ref in resolve(f"{before} {ref} {after}")
    assert ref in resolve(f"{before}\n(arXiv:{ref}),\t{after}")


@FUZZ
@given(st.one_of(URLISH, st.builds(str.format, st.sampled_from(URL_TEMPLATES), refs())))
def test_fast_path_agrees_with_the_general_path(text):
    assert resolve(text) == ids._resolve_tokens(text[: ids.MAX_INPUT].lower())


# Look-alikes and confusables: letters that case-fold to ASCII (ſ, ı, İ, K),
# fullwidth and other-script digits and letters, slash and dot look-alikes,
# invisible and direction-changing characters.
CONFUSABLES = (
    "\u017f\u0131\u0130\u212a\ufb01\uff10\uff11\uff12\u0662\u0663\u06f1\u0967\U0001d7ce"
    "\uff0e\uff0f\u2044\u2215\u2024\u3002\u0430\u0435\u043e\u0441\u04bb\u0445\u03bf"
    "\u200b\u200d\u00a0\ufeff\u0307\u202e\u2028"
)


@st.composite
def with_look_alikes(draw) -> str:
    """A real paper reference with some characters swapped for or joined by confusables."""
    text = list(draw(st.builds(str.format, st.sampled_from(URL_TEMPLATES), refs())))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        c = draw(st.sampled_from(CONFUSABLES))
        if draw(st.booleans()) and i < len(text):
            text[i] = c
        else:
            text.insert(i, c)
    return "".join(text)


@FUZZ
@given(with_look_alikes())
def test_look_alikes_never_raise_and_never_make_a_non_ascii_id(text):
    found = resolve(text)
    check_canonical(found)
    for ref in found:
        # A digit or letter look-alike must never become part of an id sent to arXiv.
        assert ref.id.isascii(), ref
        assert mirror_path([ref]).isascii()


@FUZZ
@given(
    st.text(alphabet=st.sampled_from(CONFUSABLES + "0123456789./:abcdefhimprstvxAX-"), max_size=80)
)
def test_confusable_soup_never_raises(text):
    found = resolve(text)
    check_canonical(found)
    assert all(ref.id.isascii() for ref in found)
    assert parse_id(text) is None or parse_id(text).id.isascii()


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda host, path, query: f"{host}/{path}?{query}",
            st.sampled_from(["arxiv.org", "https://papers.cool", "", "rss.arxiv.org", "x.org"]),
            st.text(max_size=60),
            st.text(max_size=30),
        ),
    )
)
def test_listing_target_never_raises_and_stays_on_the_mirror(text):
    from papermirror.listing_urls import listing_target

    target = listing_target(text)
    if target is not None:
        assert target.path.startswith("/arxiv/") and "//" not in target.path
        assert (
            parse_spec(target.spec) is not None and parse_spec(target.spec).canonical == target.spec
        )
