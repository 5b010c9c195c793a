"""A paper's BibTeX entry in arXiv's own form (the "Export BibTeX Citation" of its abs pages).

arXiv writes::

    @misc{vaswani2017attention,
          title={Attention Is All You Need},
          author={Ashish Vaswani and Noam Shazeer and ...},
          year={2017},
          eprint={1706.03762},
          archivePrefix={arXiv},
          primaryClass={cs.CL},
          url={https://arxiv.org/abs/1706.03762},
    }

The key is the first author's last name, the year and the title's first
significant word. Title keeps its TeX (BibTeX reads TeX); braces are balanced
so a stray one cannot break the entry.
"""

from __future__ import annotations

import re
import unicodedata

from papermirror.records import Paper

_STOPWORDS = frozenset("a an the of on in for and to with from by at is are via towards".split())
_WORD = re.compile(r"[A-Za-z0-9]+")


def year(paper: Paper) -> str:
    """The year of the first version: from its date, else from the identifier."""
    if paper.published:
        return paper.published[:4]
    digits = paper.id.rpartition("/")[2]
    yy = int(digits[:2])
    return f"{19 if yy >= 91 else 20}{yy:02d}"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def cite_key(paper: Paper) -> str:
    """``lastname`` + ``year`` + first significant title word, as arXiv builds it."""
    last = ""
    if paper.authors:
        words = _WORD.findall(_ascii(paper.authors[0].name))
        last = words[-1] if words else ""
    title_words = [
        w
        for w in _WORD.findall(_ascii(re.sub(r"\$[^$]*\$", " ", paper.title)))
        if w not in _STOPWORDS
    ]
    key = f"{last}{year(paper)}{title_words[0] if title_words else ''}"
    return key or paper.id.replace("/", "_")


def _balanced(text: str) -> str:
    depth = 0
    out = []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                continue
            depth -= 1
        out.append(ch)
    return "".join(out) + "}" * depth


def bibtex(paper: Paper) -> str:
    """The ``@misc`` entry for a paper, as arXiv exports it."""
    fields = [
        ("title", _balanced(" ".join(paper.title.split()))),
        ("author", _balanced(" and ".join(a.name for a in paper.authors))),
        ("year", year(paper)),
        ("eprint", paper.id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", paper.primary_category or ""),
        ("url", f"https://arxiv.org/abs/{paper.id}"),
    ]
    body = "".join(f"      {name}={{{value}}},\n" for name, value in fields if value)
    return f"@misc{{{cite_key(paper)},\n{body}}}"
