"""The FAQ's pure parts: LaTeXML to text, licence rule, model input, prompt, Markdown."""

from __future__ import annotations

import pytest

from papermirror.arxiv.latexml import cut, html_to_text
from papermirror.cli import children
from papermirror.faq import inputs
from papermirror.faq.prompt import PromptError, load, parse
from papermirror.faq.render import to_html
from papermirror.settings import Settings
from tests import faqkit
from tests.replay import load_fixture


@pytest.fixture(scope="module")
def latexml_text() -> str:
    return html_to_text(load_fixture(faqkit.HTML_FIXTURE).decode())


@pytest.fixture(scope="module")
def ar5iv_text() -> str:
    return html_to_text(load_fixture("ar5iv2024_2303.17564.html.gz").decode())


def test_latexml_sections_math_and_no_bibliography(latexml_text):
    text = latexml_text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0] == "# Tell me about yourself: LLMs are aware of their learned behaviors"
    assert (
        "## 1 Introduction" in headings
        and "### 3.1 Finetuning on multiple-choice responses (economic decisions)" in headings
    )
    assert "a latent policy $z\\in Z$ and two data generating distributions $\\varphi_{T}$" in text
    assert "<math" not in text and "<span" not in text and "alttext" not in text
    assert "ltx_" not in text and "References" not in headings
    # The bibliography's entries are gone, the citations in the text stay.
    assert "Treutlein et al. (2024)" in text
    assert "Bibliography" not in text and "## References" not in text
    assert 100_000 < len(text) < 250_000


def test_ar5iv_pages_convert_too(ar5iv_text):
    assert ar5iv_text.startswith("# BloombergGPT: A Large Language Model for Finance")
    assert "## 1 Introduction" in ar5iv_text
    assert "size of 65,536 ( $2^{16}$ )" in ar5iv_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a <math alttext='x^2' display='inline'><mi>x</mi></math> b</p>", "a $x^2$ b"),
        ("<p>see</p><math alttext='E=mc^2' display='block'><mrow/></math>", "see\n\n$$E=mc^2$$"),
        ("<h2 class='ltx_title'>2\n Method</h2><p>x</p>", "## 2 Method\n\nx"),
        ("<nav>menu</nav><p>body</p><footer>f</footer>", "body"),
        ("<section class='ltx_bibliography'><p>[1] A</p></section><p>end</p>", "end"),
        ("<p>a<script>var x='<p>'</script>b</p>", "ab"),
        ("<p>&alpha; &amp; &lt;b&gt;</p>", "α & <b>"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("", ""),
    ],
)
def test_html_to_text_cases(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("para one is here.\n\npara two", 20, "para one is here."),
        ("x" * 50, 20, "x" * 20),
    ],
)
def test_cut(text, limit, expected):
    assert cut(text, limit) == expected


@pytest.mark.parametrize(
    ("licence", "open_"),
    [
        ("http://creativecommons.org/licenses/by/4.0/", True),
        ("https://creativecommons.org/licenses/by-sa/4.0/", True),
        ("http://creativecommons.org/publicdomain/zero/1.0/", True),
        ("http://creativecommons.org/licenses/by-nc/4.0/", False),
        ("http://creativecommons.org/licenses/by-nc-nd/4.0/", False),
        ("http://creativecommons.org/licenses/by-nc-sa/4.0/", False),
        ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", False),
        ("http://creativecommons.org/licenses/publicdomain/", False),
        (None, False),
        ("", False),
    ],
)
def test_open_licences(licence, open_):
    assert inputs.open_licence(licence) is open_


@pytest.mark.parametrize(
    ("mode", "licence", "allowed"),
    [
        ("licensed", faqkit.CC_BY, True),
        ("licensed", faqkit.ARXIV_LICENCE, False),
        ("all", faqkit.ARXIV_LICENCE, True),
        ("never", faqkit.CC_BY, False),
        ("typo", faqkit.CC_BY, False),  # an unknown mode sends no full text
    ],
)
def test_fulltext_rule(mode, licence, allowed):
    settings = Settings(faq_fulltext=mode)
    assert inputs.fulltext_allowed(settings, faqkit.paper(licence=licence)) is allowed


@pytest.mark.parametrize("limit", [3000, 10000, 60000])
def test_the_message_keeps_the_abstract_and_the_cap(latexml_text, limit):
    given = inputs.PaperInput("fulltext", latexml_text)
    message = inputs.paper_message(load(), faqkit.paper(), 1, given, limit)
    assert len(message) <= limit
    assert faqkit.ABSTRACT in message
    assert "Tell me about yourself" in message and "Owain Evans" in message
    assert "Full text (from arXiv's HTML" in message
    assert ("## 3 Awareness of behaviors" in message) is (limit >= 60000)


def test_the_message_with_the_abstract_only():
    message = inputs.paper_message(load(), faqkit.paper(), 1, inputs.PaperInput("abstract"), 60000)
    assert "abstract only" in message and "Full text" not in message
    assert "$z \\in Z$" in message  # braces and dollars pass through untouched


def test_the_builtin_prompt_has_six_questions():
    prompt = load()
    assert len(prompt.questions) == 6 and prompt.source == "built-in"
    assert "{language}" in prompt.system
    assert "Simplified Chinese" in prompt.text(prompt.system, "zh")


def test_an_operator_prompt_overrides(tmp_path):
    path = tmp_path / "prompt.toml"
    path.write_text(
        'system = "Be brief, in {language}."\npaper = "{title}\\n{abstract}\\n{fulltext}"\n'
        'tldr = "One line."\nquestions = ["What is new?", "What is weak?"]\n'
    )
    prompt = load(str(path))
    assert prompt.questions == ("What is new?", "What is weak?")
    assert prompt.source == str(path)


@pytest.mark.parametrize(
    "text",
    [
        "not toml [",
        'system = "s"\npaper = "{abstract}"\ntldr = "t"\nquestions = []',
        'system = "s"\npaper = "no abstract"\ntldr = "t"\nquestions = ["q"]',
        'paper = "{abstract}"\ntldr = "t"\nquestions = ["q"]',
    ],
)
def test_broken_prompts_are_refused_with_a_reason(text):
    with pytest.raises(PromptError):
        parse(text, "test")


def test_a_missing_prompt_file_is_refused(tmp_path):
    with pytest.raises(PromptError, match="cannot read"):
        load(str(tmp_path / "absent.toml"))


@pytest.mark.parametrize(
    ("markdown", "contains", "absent"),
    [
        ("**bold** and *em*", "<strong>bold</strong> and <em>em</em>", None),
        ("$a_b * c_d$", "\\(a_b * c_d\\)", "<em>"),
        ("$$\n\\frac{1}{2}\n$$", "\\[\\frac{1}{2}\\]", None),
        ("<script>alert(1)</script>", "&lt;script&gt;", "<script"),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))", "href"),
        ("[ok](https://arxiv.org/abs/1)", 'href="https://arxiv.org/abs/1"', None),
        ("<b onmouseover=alert(1)>x</b>", "&lt;b onmouseover", "<b "),
        ("**unclosed", "**unclosed", None),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>", None),
    ],
)
def test_markdown_is_rendered_and_sanitised(markdown, contains, absent):
    html = to_html(markdown)
    assert contains in html
    if absent:
        assert absent not in html


def test_up_starts_llm_workers_only_with_a_model():
    names = [c.name for c in children(Settings())]
    assert not any(n.startswith("faq-worker") for n in names)
    settings = Settings(llm_url="http://127.0.0.1:11434/v1", llm_model="qwen3", llm_concurrency=2)
    faq = [c for c in children(settings) if c.name.startswith("faq-worker")]
    assert len(faq) == 2
    assert faq[0].argv[-3:] == [
        "papermirror-faq-click",
        "papermirror-faq-today",
        "papermirror-faq-backlog",
    ]


def test_a_web_process_without_a_model_loads_no_faq_libraries():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from server import create_app\n"
        "from papermirror.settings import Settings\n"
        "create_app(Settings(redis_url='redis://127.0.0.1:9/0'))\n"
        "print(sorted(m for m in ('openai', 'markdown_it', 'nh3') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_api_key_stays_out_of_the_settings_repr():
    assert "sk-secret" not in repr(Settings(llm_api_key="sk-secret"))
