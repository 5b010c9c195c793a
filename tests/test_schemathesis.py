"""The OpenAPI contract against a live `papermirror up`: every operation, generated inputs.

schemathesis reads /api/openapi.json from the running mirror (the replay server
as arXiv, a day of listings fetched first so listings answer 200 too) and, for
each operation, sends generated requests, valid by the schema and not. Every
answer must not be a 5xx (503 is documented where the API may send it), and must
match its documented status, content type, headers and schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server import openapi
from tests.stack import ROOT, Mirror

pytestmark = pytest.mark.slow

FOUR = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"
FOUR_PATH = "/rss/cs.LG+cs.AI+cs.CL+stat.ML"
CATEGORIES = "cs.LG,cs.AI,cs.CL,stat.ML"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 60, GenerationMode.NEGATIVE: 30}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, replay):
    replay.route(FOUR_PATH, FOUR)
    m = Mirror.start(
        tmp_path_factory.mktemp("contract") / "data",
        replay.api_url,
        arxiv_rss_url=replay.url + "/rss/",
        categories=CATEGORIES,
        fetch_wait=0.5,
        workers=1,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
    env["PAPERMIRROR_DATA_DIR"] = str(m.data_dir)
    fetched = subprocess.run(
        [sys.executable, "-m", "papermirror.cli", "fetch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fetched.returncode == 0, fetched.stderr
    yield m
    assert m.stop() == 0


def check_operation(operation, mode, examples, base, session, cases, statuses) -> None:
    """Send ``examples`` generated requests to one operation; count cases and statuses."""
    strategy = operation.as_strategy(generation_mode=mode)
    try:
        check_strategy(operation, strategy, examples, base, session, cases, statuses)
    except Unsatisfiable:
        # No input can break the schema of an operation without parameters.
        assert mode == GenerationMode.NEGATIVE, operation.label


def check_strategy(operation, strategy, examples, base, session, cases, statuses) -> None:
    """Run up to ``examples`` cases drawn from ``strategy`` with every check."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case):
        response = case.call_and_validate(base_url=base, session=session, checks=CHECKS, timeout=15)
        cases[operation.label] += 1
        statuses[response.status_code] += 1

    run()


def test_every_operation_keeps_the_contract(mirror):
    assert requests.get(mirror.base + "/api/listings/cs.AI", timeout=10).status_code == 200
    # The documented examples are stored papers, so their records meet the Paper schema.
    for paper in ("2104.12255", "hep-ex/0406020v1"):
        deadline = time.monotonic() + 30
        while requests.get(f"{mirror.base}/api/papers/{paper}", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, paper
            time.sleep(0.3)
    schema = schemathesis.openapi.from_url(mirror.base + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # schemathesis leaves out the operation that serves the schema it reads.
    expected = {f"{m.upper()} {p}" for p, m in openapi.OPERATIONS} - {"GET /api/openapi.json"}
    assert {op.label for op in operations} == expected
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    session = requests.Session()
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            check_operation(operation, mode, examples, mirror.base, session, cases, statuses)
        # And the schema's own examples, each as written.
        for strategy in schema.get_strategies_from_examples(operation):
            check_strategy(operation, strategy, 5, mirror.base, session, cases, statuses)
    summary = {
        "operations": len(operations),
        "cases": sum(cases.values()),
        "per_operation": dict(cases),
        "statuses": dict(sorted(statuses.items())),
    }
    print("schemathesis:", json.dumps(summary))
    assert set(cases) == {op.label for op in operations}
    assert 500 not in statuses
    assert statuses[200] >= 5  # records and listings were really checked against their schemas
