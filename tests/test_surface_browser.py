"""The reading surface in headless Chromium, on the real 2024-11-28 feed (issue 10).

Math typeset in titles and abstracts from the mirror's own KaTeX with every
non-loopback request refused (offline); TeX accents and author names; dark mode
by system preference and by the header's toggle; no sideways scroll at 360 px
on the home, listing and paper pages. Screenshots go to test-artifacts/screenshots/
(gitignored) for people to look at; docs/paper-page.png is refreshed from them.

Playwright (playwright-core from the extension's node_modules) drives Debian's
chromium; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from papermirror.records import Paper
from papermirror.store import Store
from tests import browser
from tests.test_listings import loaded  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow

SHOTS = browser.ARTIFACTS / "screenshots"

SCRIPT = Path(__file__).with_name("surface_browser.cjs")


HOSTILE = Paper(
    id="2411.99999",
    version=1,
    title=r"Evil $\href{javascript:alert(1)}{click}$ and $\htmlClass{evil}{y}$",
    abstract=r"$$\url{javascript:alert(2)}$$ <img src=x onerror=alert(3)> "
    r"$\def\a{\a\a}\a$ and $\rule{9999em}{9999em}$ "
    r"$\gdef\alpha{EVIL}\alpha$ is one paper's own; $\alpha$ stays alpha",
    categories=("cs.AI",),
    source="api",
)


@pytest.fixture
def browser_run(loaded, redis_client, tmp_path):  # noqa: F811
    """Run SCRIPT against the app on a loopback port; returns its JSON."""
    Store(redis_client).upsert(HOSTILE)
    browser.require_browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "surface.cjs"
    script.write_text(SCRIPT.read_text())
    with browser.serving(loaded.application) as base:
        return browser.run_node(
            script,
            timeout=240,
            BASE_URL=base,
            SHOTS=str(SHOTS),
            OPTIONS_PAGE=str(browser.ROOT / "extension" / "options.html"),
        )


def test_reading_surface(browser_run):
    out = browser_run
    # Offline: no request left the mirror, nothing 404ed (favicon included), no script error.
    assert out["thirdParty"] == []
    assert out["notFound"] == []
    assert out["errors"] == []
    # Math in a title and an abstract, typeset by the bundled KaTeX.
    assert out["listingTitleKatex"] >= 1 and "Fusion: Helpful" in out["listingTitleText"]
    assert "$" not in out["listingTitleText"]
    assert out["listingAbstractKatex"] >= 1
    vector = out["2411.18509"]
    assert vector["titleKatex"] == 2 and vector["abstractKatex"] >= 3
    assert "$" not in vector["title"] and "\\times" not in vector["title"]
    assert out["2411.17792"]["titleKatex"] == 1
    # TeX accents and dashes as Unicode, math intact around them.
    assert "Schrödinger" in out["2411.16302"]["title"]
    assert "Schrödinger field theory" in out["2411.16302"]["abstract"]
    assert out["2411.18468"]["title"] == "Parole de présidents (1958-2022)"
    assert "huit présidents se sont succédé à la tête" in out["2411.18468"]["abstract"]
    assert " discours – soit 9202 textes" in out["2411.18468"]["abstract"]
    # Author names keep their spaces, on the page and in citation_author.
    penin = out["2411.18592"]
    assert "José Manuel Penin" in [a.strip().rstrip(",") for a in penin["authors"]]
    assert "José Manuel Penin" in penin["citationAuthors"]
    # A feed-only paper: the announcement day, and a citation_date that is never empty.
    assert penin["citationDate"] == ["2024/11/28"]
    assert "28 Nov 2024" in penin["announced"]
    # Star buttons are named after their paper; readers see no internal labels.
    assert out["starLabel"].startswith("Star: ") and "Fusion" in out["starLabel"]
    assert out["kinds"] and set(out["kinds"]) <= {"cross-list", "replaced", "replaced cross-list"}
    # Dark mode: the system's preference, the toggle, remembered across a reload.
    dark = "rgb(22, 22, 22)"
    assert out["darkBackground"] == dark and "dark" in out["darkScheme"]
    assert out["toggledBackground"] != dark and out["toggledAfterReload"] != dark
    assert out["themeStored"] == "light"
    assert out["manualDarkBackground"] == dark
    assert out["optionsDarkBackground"] == dark
    # Phones: no page is wider than 360 px.
    assert out["widths"] == dict.fromkeys(out["widths"], 360), out["widths"]
    for width, where in out["anchors"].items():
        assert where["entryTop"] >= where["toolbarBottom"] - 1, (width, where)
    assert out["smallTargets"] == []
    assert out["hostile"] == {"jsLinks": 0, "classes": 0, "typeset": 7, "evil": 1, "dialogs": []}
    assert out["lateKatex"] == 1
    assert out["firstTab"] == "Skip to content"
    assert out["summaryCheckboxes"] == 0
