"""The URL and text forms that name an arXiv paper: data only, compiled by papermirror.ids.

Supporting a new form means adding a row to ``ROWS`` (and a case to tests/data/url_cases.toml).
Every form was seen in real use; tests/data/url_cases.toml notes where.

A row is ``(hosts, pattern)``. The pattern is matched, anchored, against what follows the host
in a lower-cased, percent-decoded URL (path, query, fragment); anything after the paper id is
ignored. It names the paper through one placeholder:

- ``{idv}``  an id (new or old style) with an optional ``vN``;
- ``{new}``  a new-style id only, without version (for sites whose slugs are not all ids);
- ``{list}`` one or more ``{idv}`` joined by commas;
- or the named groups ``(?P<yymm>)(?P<num>)`` (new style) or ``(?P<arch>{archive})(?P<old>)``
  (old style) with an optional ``{ver}``, closed by ``{end}`` (the id stops here).

Hosts: ``*.arxiv.org`` is any subdomain, ``scholar.google.*`` any suffix, ``""`` a path with
no host (arXiv's relative links, and this mirror's own ``/arxiv/<ids>`` paths). A leading
``www.`` and any port are ignored.
"""

# The archives of the old scheme (1991-2007); ids there read archive[.SUBJECT]/YYMMNNN.
ARCHIVES = (
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
    "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an",
    "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin",
    "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph",
    "solv-int", "supr-con",
)  # fmt: skip

# Ids arXiv has really served that break the grammar, kept verbatim (an OAI-PMH record, 2014).
ODD_IDS = frozenset({"0811.36489"})

# Hosts that serve arXiv's own routes: the main site, its aliases and mirrors, and ar5iv.
ARXIV = ("arxiv.org", "*.arxiv.org", "xxx.lanl.gov", "xxx.itp.ac.cn", "ar5iv.org", "")
# Cool Papers and this mirror share the /arxiv/<id>[,<id>...] path.
MIRROR = ("papers.cool", "")

ROWS = (
    # Abs page, other formats, TeX source (with /anc/<file>), legacy PostScript and DVI.
    (ARXIV, r"/(?:abs|format|src|e-print|ps|dvi)/{idv}"),
    (ARXIV, r"/pdf/{idv}"),
    # LaTeXML HTML, ar5iv, and the 1990s author HTML /html/<old id>/<file>.
    (ARXIV, r"/html/{idv}"),
    (ARXIV, r"/latexml/{idv}"),
    # Side pages name exactly one paper, so they lead to it; /prevnext names a neighbour.
    (ARXIV, r"/(?:tb|bibtex|refs|cits|audio|auth/show-endorsers)/{idv}"),
    (ARXIV, r"/show-email/[0-9a-f]+/{idv}"),
    # Legacy query forms of /abs, still served by arxiv-browse's bare_abs().
    (ARXIV, r"/abs/?\?(?:[^#]*?[&;])?id={idv}"),
    (ARXIV, r"/abs/?\?{idv}"),
    (
        ARXIV,
        r"/abs/?\?(?=(?:[^#]*?[&;])?archive=(?P<arch>{archive})(?:\.[a-z-]+)?(?![\w.-]))"
        r"(?:[^#]*?[&;])?papernum=(?P<old>[0-9]{7}){ver}{end}",
    ),
    # Pre-2010 PDF cache links: /PS_cache/arxiv/pdf/0707/0707.3168v1.pdf and
    # /PS_cache/hep-th/pdf/9901/9901001v2.pdf.
    (ARXIV, r"/ps_cache/arxiv/(?:pdf|ps)/[0-9]{4}/{idv}"),
    (ARXIV, r"/ps_cache/(?P<arch>{archive})/(?:pdf|ps)/[0-9]{4}/(?P<old>[0-9]{7}){ver}{end}"),
    # The API and OAI-PMH requests name the papers they ask for.
    (ARXIV, r"/api/query\?(?:[^#]*?[&;])?id_list={list}"),
    (ARXIV, r"/oai2?\?(?:[^#]*?[&;])?identifier=oai:arxiv\.org:{idv}"),
    (MIRROR, r"/arxiv/{list}"),
    (("doi.org", "dx.doi.org"), r"/10\.48550/arxiv\.{idv}"),
    # Not every Hugging Face /papers/ slug is an arXiv id: accept only new-style ids.
    (("huggingface.co", "hf.co"), r"/papers/{new}"),
    (("alphaxiv.org",), r"/(?:abs|overview)/{idv}"),
    (("semanticscholar.org",), r"/arxiv/{idv}"),
    (("api.semanticscholar.org",), r"/arxiv:{idv}"),
    (("scholar.google.*",), r"/scholar_lookup\?(?:[^#]*?[&;])?arxiv_id={idv}"),
    (("ui.adsabs.harvard.edu", "adsabs.harvard.edu"), r"/abs/arxiv:{idv}"),
    # ADS bibcodes of arXiv e-prints: 2017arXiv170603762V (from 2015), 2014arXiv1412.6980K;
    # the last character is the first author's initial.
    (
        ("ui.adsabs.harvard.edu", "adsabs.harvard.edu"),
        r"/abs/[0-9]{4}arxiv(?P<yymm>[0-9]{4})\.?(?P<num>[0-9]{4,5})[a-z.]{end}",
    ),
    # DBLP keys CoRR papers as abs-YYMM-NNNNN.
    (
        ("dblp.uni-trier.de", "dblp.org", "dblp.dagstuhl.de"),
        r"/[^?#]*[/#]abs-(?P<yymm>[0-9]{4})-(?P<num>[0-9]{4,5})(?![0-9])",
    ),
    (("inspirehep.net",), r"(?:/api)?/arxiv/{idv}"),
    (("connectedpapers.com",), r"(?:/api/redirect)?/arxiv/{idv}"),
    (("scirate.com",), r"/arxiv/{idv}"),
    (("arxiv-vanity.com",), r"/papers/{idv}"),
)

# Ids in running text (not inside a URL of a known host). Each prefix may start a form;
# bare ids count only at the start of a word or after one of BARE_AFTER, so that ids inside
# unknown URLs (…/prevnext?id=…, …/foo/1902.02534) are not taken for papers.
TEXT_PREFIXES = (r"arxiv:\s{0,3}", r"oai:arxiv\.org:", r"10\.48550/arxiv\.")
BARE_AFTER = "([{<\"'“‘«,;:*"

# File suffixes that may follow an id directly (2101.00001v2.pdf, alphaXiv's 2603.09985.md).
SUFFIXES = ("pdf", "md", "ps", "html", "htm")
