"""Shared fixtures: a real Redis server per test session, an empty database per test."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from papermirror import embedded

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "arxiv"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The recorded arXiv responses (read-only; never edit them)."""
    assert FIXTURES.is_dir(), f"arXiv fixtures not found at {FIXTURES}"
    return FIXTURES


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the whole session."""
    server = embedded.start(tmp_path_factory.mktemp("redis"), appendonly=False)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """URL of an empty database on the session's Redis server (flushed after the test)."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield redis_server.url
    client.flushall()


@pytest.fixture
def redis_client(redis_url) -> redis.Redis:
    """A redis-py client on the test's empty database."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def load_url_cases() -> list[dict]:
    """The one table of URL cases (tests/data/url_cases.toml) that every resolver test reads."""
    import tomllib

    with open(DATA / "url_cases.toml", "rb") as f:
        return tomllib.load(f)["case"]


@pytest.fixture(scope="module")
def replay():
    """A replay arXiv server on loopback, serving the recorded responses."""
    from tests.replay import ReplayServer

    with ReplayServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory, replay):
    """A real Redis, the replay arXiv server and one real `rq worker` process.

    Module-scoped (a worker outlives one test), so tests using it pick paper
    ids that no other test of the module depends on being absent.
    """
    from tests.stack import Stack

    stack = Stack.start(tmp_path_factory.mktemp("stack"), replay)
    yield stack
    stack.stop()
