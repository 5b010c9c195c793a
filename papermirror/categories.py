"""arXiv categories and category specs (``cs.AI``, ``cs``, ``cs.AI,cs.CL``, ``cs.AI+cs.LG-cs.CV``).

A spec names what a listing page shows, as in papers.cool's ``/arxiv/<spec>``:
terms joined by ``,`` or ``+`` (union; whitespace too, since a ``+`` in a URL
may arrive decoded as a space) and ``-term`` for exclusion. A term is a
category (``cs.AI``) or an archive (``cs``: every ``cs.*``), in any case.
A paper matches when one of its categories is included and none is excluded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# arXiv's category taxonomy (arxiv.org/category_taxonomy). An unindented line
# is an archive; indented lines list its subject classes, "; "-separated.
# Archives without subject classes are categories themselves (hep-th).
_TAXONOMY = """
astro-ph Astrophysics
  CO Cosmology and Nongalactic Astrophysics; EP Earth and Planetary Astrophysics
  GA Astrophysics of Galaxies; HE High Energy Astrophysical Phenomena
  IM Instrumentation and Methods for Astrophysics; SR Solar and Stellar Astrophysics
cond-mat Condensed Matter
  dis-nn Disordered Systems and Neural Networks; mes-hall Mesoscale and Nanoscale Physics
  mtrl-sci Materials Science; other Other Condensed Matter; quant-gas Quantum Gases
  soft Soft Condensed Matter; stat-mech Statistical Mechanics
  str-el Strongly Correlated Electrons; supr-con Superconductivity
cs Computer Science
  AI Artificial Intelligence; AR Hardware Architecture; CC Computational Complexity
  CE Computational Engineering, Finance, and Science; CG Computational Geometry
  CL Computation and Language; CR Cryptography and Security
  CV Computer Vision and Pattern Recognition; CY Computers and Society; DB Databases
  DC Distributed, Parallel, and Cluster Computing; DL Digital Libraries
  DM Discrete Mathematics; DS Data Structures and Algorithms; ET Emerging Technologies
  FL Formal Languages and Automata Theory; GL General Literature; GR Graphics
  GT Computer Science and Game Theory; HC Human-Computer Interaction
  IR Information Retrieval; IT Information Theory; LG Machine Learning
  LO Logic in Computer Science; MA Multiagent Systems; MM Multimedia
  MS Mathematical Software; NA Numerical Analysis; NE Neural and Evolutionary Computing
  NI Networking and Internet Architecture; OH Other Computer Science
  OS Operating Systems; PF Performance; PL Programming Languages; RO Robotics
  SC Symbolic Computation; SD Sound; SE Software Engineering
  SI Social and Information Networks; SY Systems and Control
econ Economics
  EM Econometrics; GN General Economics; TH Theoretical Economics
eess Electrical Engineering and Systems Science
  AS Audio and Speech Processing; IV Image and Video Processing; SP Signal Processing
  SY Systems and Control
gr-qc General Relativity and Quantum Cosmology
hep-ex High Energy Physics - Experiment
hep-lat High Energy Physics - Lattice
hep-ph High Energy Physics - Phenomenology
hep-th High Energy Physics - Theory
math Mathematics
  AC Commutative Algebra; AG Algebraic Geometry; AP Analysis of PDEs
  AT Algebraic Topology; CA Classical Analysis and ODEs; CO Combinatorics
  CT Category Theory; CV Complex Variables; DG Differential Geometry
  DS Dynamical Systems; FA Functional Analysis; GM General Mathematics
  GN General Topology; GR Group Theory; GT Geometric Topology; HO History and Overview
  IT Information Theory; KT K-Theory and Homology; LO Logic; MG Metric Geometry
  MP Mathematical Physics; NA Numerical Analysis; NT Number Theory
  OA Operator Algebras; OC Optimization and Control; PR Probability
  QA Quantum Algebra; RA Rings and Algebras; RT Representation Theory
  SG Symplectic Geometry; SP Spectral Theory; ST Statistics Theory
math-ph Mathematical Physics
nlin Nonlinear Sciences
  AO Adaptation and Self-Organizing Systems; CD Chaotic Dynamics
  CG Cellular Automata and Lattice Gases; PS Pattern Formation and Solitons
  SI Exactly Solvable and Integrable Systems
nucl-ex Nuclear Experiment
nucl-th Nuclear Theory
physics Physics
  acc-ph Accelerator Physics; ao-ph Atmospheric and Oceanic Physics
  app-ph Applied Physics; atm-clus Atomic and Molecular Clusters; atom-ph Atomic Physics
  bio-ph Biological Physics; chem-ph Chemical Physics; class-ph Classical Physics
  comp-ph Computational Physics; data-an Data Analysis, Statistics and Probability
  ed-ph Physics Education; flu-dyn Fluid Dynamics; gen-ph General Physics
  geo-ph Geophysics; hist-ph History and Philosophy of Physics
  ins-det Instrumentation and Detectors; med-ph Medical Physics; optics Optics
  plasm-ph Plasma Physics; pop-ph Popular Physics; soc-ph Physics and Society
  space-ph Space Physics
q-bio Quantitative Biology
  BM Biomolecules; CB Cell Behavior; GN Genomics; MN Molecular Networks
  NC Neurons and Cognition; OT Other Quantitative Biology; PE Populations and Evolution
  QM Quantitative Methods; SC Subcellular Processes; TO Tissues and Organs
q-fin Quantitative Finance
  CP Computational Finance; EC Economics; GN General Finance; MF Mathematical Finance
  PM Portfolio Management; PR Pricing of Securities; RM Risk Management
  ST Statistical Finance; TR Trading and Market Microstructure
quant-ph Quantum Physics
stat Statistics
  AP Applications; CO Computation; ME Methodology; ML Machine Learning
  OT Other Statistics; TH Statistics Theory
"""

# Retired archives: they name old papers (solv-int/9901001) and their
# categories, but feeds reject them, so specs do not accept them.
_LEGACY = """
acc-phys Accelerator Physics; adap-org Adaptation, Noise, and Self-Organizing Systems
alg-geom Algebraic Geometry; ao-sci Atmospheric-Oceanic Sciences
atom-ph Atomic, Molecular and Optical Physics; bayes-an Bayesian Analysis
chao-dyn Chaotic Dynamics; chem-ph Chemical Physics; cmp-lg Computation and Language
comp-gas Cellular Automata and Lattice Gases; dg-ga Differential Geometry
funct-an Functional Analysis; mtrl-th Materials Theory; patt-sol Pattern Formation and Solitons
plasm-ph Plasma Physics; q-alg Quantum Algebra and Topology
solv-int Exactly Solvable and Integrable Systems; supr-con Superconductivity
"""


def _load() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    archives: dict[str, str] = {}
    categories: dict[str, str] = {}
    archive = ""
    for line in _TAXONOMY.strip().splitlines():
        if not line.startswith(" "):
            archive, name = line.split(" ", 1)
            archives[archive] = name
            categories[archive] = name
            continue
        for entry in line.split(";"):
            sub, name = entry.strip().split(" ", 1)
            categories[f"{archive}.{sub}"] = name
    # Archives with subject classes are categories only for their oldest
    # papers (astro-ph, cond-mat); the others never appear as a category.
    for archive in ("cs", "econ", "eess", "math", "nlin", "physics", "q-bio", "q-fin", "stat"):
        del categories[archive]
    legacy = {}
    for entry in " ; ".join(_LEGACY.strip().splitlines()).split(";"):
        code, name = entry.strip().split(" ", 1)
        legacy[code] = name
    return archives, categories, legacy


ARCHIVES, CATEGORIES, LEGACY_CATEGORIES = _load()
"""Current archives, current categories and retired categories, canonical name -> name."""

_CANONICAL = {c.lower(): c for c in (*CATEGORIES, *LEGACY_CATEGORIES, *ARCHIVES)}
_SPEC_NAMES = sorted({c for c in (*CATEGORIES, *ARCHIVES)}, key=len, reverse=True)
# Longest names first, and a name must end at a separator, so that "hep-th"
# is one term while "cs-cs.CV" is cs minus cs.CV.
_TERM = re.compile(
    r"(?P<sep>[\s,+]*-?\s*)(?P<name>"
    + "|".join(re.escape(n) for n in _SPEC_NAMES)
    + r")(?=\s*(?:$|[,+\s-]))",
    # ASCII: without it, IGNORECASE lets look-alikes match (ſ for s, ı for i,
    # K (Kelvin) for k), and their lower() is no canonical name.
    re.IGNORECASE | re.ASCII,
)
MAX_SPEC_LENGTH = 1000


def canonical_category(name: str) -> str | None:
    """The canonical spelling of a category or archive name (``CS.ai`` -> ``cs.AI``), or None.

    Only ASCII names count: ``math.\u212aT`` (a Kelvin sign) lower-cases to
    ``math.kt`` but is not the name anyone follows.
    """
    name = name.strip()
    return _CANONICAL.get(name.lower()) if name.isascii() else None


def is_category(name: str) -> bool:
    """Whether ``name`` (any case) is an arXiv category a paper can carry, retired ones included."""
    canonical = canonical_category(name)
    return canonical in CATEGORIES or canonical in LEGACY_CATEGORIES


def is_archive(name: str) -> bool:
    """Whether ``name`` (any case) is a current archive (``cs``, ``hep-th``, ``astro-ph``)."""
    return canonical_category(name) in ARCHIVES


def category_name(name: str) -> str | None:
    """The human name of a category or archive (``cs.AI`` -> ``Artificial Intelligence``)."""
    canonical = canonical_category(name)
    if canonical is None:
        return None
    return CATEGORIES.get(canonical) or ARCHIVES.get(canonical) or LEGACY_CATEGORIES[canonical]


def _subject_names() -> dict[str, str]:
    names = {}
    for code, name in CATEGORIES.items():
        archive = code.partition(".")[0]
        names[f"{ARCHIVES[archive]} - {name}" if "." in code else name] = code
    return names


SUBJECT_NAMES = _subject_names()
"""OAI ``dc:subject`` text -> category (``Computer Science - Machine Learning`` -> ``cs.LG``)."""


def _in(category: str, names: frozenset[str]) -> bool:
    # ``category`` is lower-case; an archive name covers all its subject classes.
    return category in names or category.partition(".")[0] in names


@dataclass(frozen=True)
class Spec:
    """A parsed category spec: canonical included and excluded terms, sorted."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    _inc: frozenset[str] = field(init=False, repr=False, compare=False)
    _exc: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_inc", frozenset(t.lower() for t in self.include))
        object.__setattr__(self, "_exc", frozenset(t.lower() for t in self.exclude))

    def matches(self, categories: Iterable[str]) -> bool:
        """Whether a paper with these categories belongs to the listing."""
        lowered = [c.lower() for c in categories]
        if not any(_in(c, self._inc) for c in lowered):
            return False
        return not any(_in(c, self._exc) for c in lowered)

    @property
    def canonical(self) -> str:
        """The spec's canonical text for URLs: ``cs.AI,cs.LG-cs.CV``."""
        return ",".join(self.include) + "".join(f"-{t}" for t in self.exclude)

    @property
    def feed_categories(self) -> list[str]:
        """What to ask the RSS feed for: the included terms (exclusions are applied locally)."""
        return list(self.include)


def parse_spec(text: str) -> Spec | None:
    """Parse a category spec; None unless every term is a known category or archive."""
    if not text or len(text) > MAX_SPEC_LENGTH:
        return None
    include: dict[str, None] = {}
    exclude: dict[str, None] = {}
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _TERM.match(text, pos)
        if m is None:
            return None
        sep = m.group("sep")
        if (pos == 0 and sep.strip()) or (pos > 0 and not sep):
            return None
        name = _CANONICAL.get(m.group("name").lower())
        if name is None:  # unreachable with re.ASCII; a look-alike must never raise
            return None
        (exclude if "-" in sep else include)[name] = None
        pos = m.end()
    if not include:
        return None
    # An archive already covers its own categories: cs,cs.AI is just cs.
    kept = [t for t in include if "." not in t or t.partition(".")[0] not in include]
    return Spec(_sorted(kept), _sorted(exclude))


def _sorted(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(names, key=str.lower))


def follow_terms(categories: Iterable[str]) -> tuple[list[str], list[str]]:
    """(valid canonical terms, invalid names) of a followed-categories list.

    A term is a current category or archive, in any case; a category whose
    archive is also followed is dropped, since the archive's feed covers it.
    """
    valid: dict[str, None] = {}
    invalid = []
    for raw in categories:
        name = canonical_category(raw)
        if name in ARCHIVES or name in CATEGORIES:
            valid[name] = None
        elif raw.strip():
            invalid.append(raw.strip())
    terms = [t for t in valid if "." not in t or t.partition(".")[0] not in valid]
    return terms, invalid
