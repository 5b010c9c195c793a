"""docker-compose.yml, the Dockerfile and .env.example: valid, consistent, and complete."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from papermirror import embedded, keys
from papermirror.settings import Settings
from papermirror.settings_doc import settings_table
from tests import compose
from tests.compose import COMPOSE_FILE, ENV_EXAMPLE, ROOT

APP_SERVICES = ("web", "worker", "scheduler", "indexer")


@pytest.fixture(scope="module")
def spec() -> dict:
    """docker-compose.yml as data, not interpolated."""
    return compose.load()


@pytest.fixture(scope="module")
def services() -> dict[str, compose.Service]:
    """The services as Compose runs them with no .env at all: every default."""
    return compose.project({})


def test_compose_file_follows_the_compose_specification():
    if importlib.util.find_spec("check_jsonschema") is None:
        if os.environ.get("CI"):
            pytest.fail("check-jsonschema is a test dependency; CI must have it")
        pytest.skip("check-jsonschema is not installed")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_accepts_the_file():
    docker = shutil.which("docker")
    if (
        not docker
        or subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30
        ).returncode
        != 0
    ):
        pytest.skip("no `docker compose` plugin here (its `config` needs no engine)")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("$A/x", {"A": "1"}, "1/x"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A:+r}", {"A": "1"}, "r"),
        ("${A:+r}", {"A": ""}, ""),
        ("${A:-${B:-x}}:8000", {}, "x:8000"),
        ("$$A", {"A": "1"}, "$A"),
        ("${MISSING}", {}, ""),
    ],
)
def test_interpolation_follows_compose(text, env, expected):
    assert compose.interpolate(text, env) == expected


def test_required_variable_must_be_set():
    with pytest.raises(compose.InterpolationError, match="set it"):
        compose.interpolate("${A:?set it}", {"A": ""})


def test_the_five_services(spec):
    default = {n for n, svc in spec["services"].items() if not svc.get("profiles")}
    assert default == {"redis", *APP_SERVICES}
    assert set(spec["volumes"]) == {"redis-data", "prometheus-data", "search-index"}


def test_indexer_shares_the_search_volume_with_web(spec, services):
    index = "search-index:" + services["web"].env["PAPERMIRROR_SEARCH_DIR"]
    assert index in spec["services"]["web"]["volumes"]
    assert index in spec["services"]["indexer"]["volumes"]
    assert services["indexer"].argv == ["python", "-m", "papermirror.search.indexer"]
    assert "deploy" not in spec["services"]["indexer"]  # one writer per index


def test_the_faq_workers_run_only_when_asked_for(spec, services):
    # `docker compose --profile faq up -d`: the LLM workers on the FAQ's own queues.
    faq = spec["services"]["faq-worker"]
    assert faq["profiles"] == ["faq"] and faq["image"] == "papermirror:local"
    argv = services["faq-worker"].argv
    assert argv[:2] == ["rq", "worker"] and argv[-3:] == list(keys.FAQ_QUEUES)


def test_redis_is_official_persistent_healthy_and_private(spec, services):
    redis = spec["services"]["redis"]
    assert redis["image"].startswith("redis:")
    argv = services["redis"].argv
    assert argv[0] == "redis-server"
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    # Both persistence modes, as Redis's persistence guide recommends, and never evict.
    assert options["--appendonly"] == "yes" and options["--appendfsync"] == "everysec"
    assert options["--save"] == embedded.SAVE_POINTS
    assert options["--maxmemory"] == Settings.from_env({}).redis_maxmemory
    assert options["--maxmemory-policy"] == "noeviction"
    # The official image keeps its data in /data, its working directory.
    assert "redis-data:/data" in redis["volumes"]
    assert services["redis"].healthcheck == ["redis-cli", "ping"]
    assert "ports" not in redis, "Redis must not be published on the host"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_image_settings_and_wait_for_redis(spec, services, name):
    svc = spec["services"][name]
    assert (svc["build"], svc["image"]) == (".", "papermirror:local")
    assert {"path": ".env", "required": False} in svc["env_file"]
    assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    assert svc["restart"] == "unless-stopped"
    assert services[name].env["PAPERMIRROR_REDIS_URL"] == "redis://redis:6379/0"
    # A .env setting reaches every service, through env_file.
    assert (
        compose.project({"PAPERMIRROR_CONTACT": "me@lab.org"})[name].env["PAPERMIRROR_CONTACT"]
        == "me@lab.org"
    )


def test_web_serves_the_app_factory_with_a_health_check(spec, services):
    web = services["web"]
    assert web.argv[:3] == ["python", "-m", "server.serve"]
    assert web.argv[web.argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert "http://127.0.0.1:8000/healthz'" in web.healthcheck[-1]
    assert web.healthcheck[0] == "python"  # the slim image has no curl
    assert spec["services"]["web"]["ports"] == [
        "${PAPERMIRROR_PUBLISH_ADDRESS:-0.0.0.0}:${PAPERMIRROR_PUBLISH_PORT:-8000}:8000"
    ]
    published = compose.project({"PAPERMIRROR_PUBLISH_PORT": "9090"})
    assert (
        compose.interpolate(
            spec["services"]["web"]["ports"][0], {"PAPERMIRROR_PUBLISH_PORT": "9090"}
        )
        == "0.0.0.0:9090:8000"
    )
    assert published["web"].argv == web.argv
    # Processes, threads, trusted proxies and the log level come from the settings
    # (.env, through env_file), read by server.serve as in `up`: no flag repeats them.
    assert web.argv[3:] == ["--bind", "0.0.0.0:8000", "--access-log", "-"]
    trusted = compose.project({"PAPERMIRROR_FORWARDED_ALLOW_IPS": "*"})["web"]
    assert trusted.env["PAPERMIRROR_FORWARDED_ALLOW_IPS"] == "*"


def test_workers_scale_and_share_the_fetch_queue(spec, services):
    worker = spec["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker, "would block --scale"
    argv = services["worker"].argv
    # One RQ worker per replica, which runs RQ's retry scheduler itself (no --cron).
    assert argv[:3] == ["python", "-m", "worker.run"] and argv[-1] == keys.FETCH_QUEUE
    assert "--cron" not in argv and "--workers" not in argv
    assert "--url" not in argv, "a Redis password would show in ps"
    assert services["worker"].env["RQ_REDIS_URL"] == services["worker"].env["PAPERMIRROR_REDIS_URL"]
    assert services["worker"].replicas == Settings.from_env({}).workers
    assert compose.project({"PAPERMIRROR_WORKERS": "4"})["worker"].replicas == 4


def test_scheduler_runs_rq_cron_on_the_schedule_module(services):
    argv = services["scheduler"].argv
    assert argv[:2] == ["rq", "cron"]
    assert "--url" not in argv
    env = services["scheduler"].env
    assert env["RQ_REDIS_URL"] == env["PAPERMIRROR_REDIS_URL"]
    module = argv[-1]
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{module} not found"


def _options(argv: list[str]) -> dict[str, str | None]:
    """``--flag value`` pairs (a flag followed by another flag has None), and the positionals."""
    opts, i = {}, 0
    while i < len(argv):
        if argv[i].startswith("--"):
            has_value = i + 1 < len(argv) and not argv[i + 1].startswith("--")
            opts[argv[i]] = argv[i + 1] if has_value else None
            i += 2 if has_value else 1
        else:
            opts.setdefault("", []).append(argv[i])
            i += 1
    return opts


def test_compose_runs_what_papermirror_up_runs(services):
    """Each compose command is `papermirror up`'s for that process, but for container needs."""
    from papermirror.cli import children

    settings = Settings.from_env({}, redis_url="redis://redis:6379/0")
    up = {c.name.split("-")[0]: c.argv for c in children(settings)}
    at = up["web"].index("server.serve")
    assert services["web"].argv[:3] == ["python", *up["web"][at - 1 : at + 1]]
    web = _options(up["web"][at + 1 :])
    compose_web = _options(services["web"].argv[3:])
    # Only where to listen and where requests are logged differ (a container's own needs).
    assert set(web) == set(compose_web) == {"--bind", "--access-log"}
    # The workers: the same options, but compose scales by container, not --workers,
    # and runs the cron scheduler and the indexer as services of their own instead of
    # --cron and --indexer.
    rq = up["workers"][up["workers"].index("worker.run") + 1 :]
    for flag in ("--cron", "--indexer"):
        rq.remove(flag)
    at = rq.index("--workers")
    del rq[at : at + 2]
    assert services["worker"].argv[3:] == rq


def test_env_example_is_generated_from_settings():
    assert ENV_EXAMPLE.read_text() == compose.render_env_example(), (
        ".env.example is stale: python -m tests.compose > .env.example"
    )


def test_env_example_documents_every_setting_and_compose_variable():
    text = ENV_EXAMPLE.read_text()
    for name, _, doc in settings_table():
        assert f"{name}=" in text and doc in text, name
    for name in compose.variables():
        assert f"{name}=" in text, f"docker-compose.yml reads {name}; .env.example must say so"


def test_compose_defaults_are_the_settings_defaults():
    table = {name: default for name, default, _ in settings_table()}
    for name, default in compose.variable_defaults().items():
        if name in table and name != "PAPERMIRROR_REDIS_URL":
            assert default == table[name], name


def test_dockerfile_is_slim_non_root_cache_friendly_and_serves_the_web_server(services):
    rows = compose.dockerfile_instructions()
    words = [w for w, _ in rows]
    assert rows[0] == ("FROM", "python:3.11-slim")
    users = [args for w, args in rows if w == "USER"]
    assert users and users[-1] not in ("root", "0")
    copies = [i for i, (w, _) in enumerate(rows) if w == "COPY"]
    deps = next(i for i, (w, args) in enumerate(rows) if w == "RUN" and "-r " in args)
    # Dependencies install from pyproject.toml alone, before any source is copied.
    assert rows[copies[0]][1] == "pyproject.toml ./" and copies[0] < deps < copies[1]
    assert not any("apt-get" in args for w, args in rows if w == "RUN"), "no build tools"
    assert words.count("CMD") == 1
    # The image serves what the compose web service runs, with every default.
    assert json.loads(dict(rows)["CMD"]) == services["web"].argv


def test_dockerfile_ships_the_extension_the_server_zips():
    from server.extension import RUNTIME_ENTRIES

    rows = compose.dockerfile_instructions()
    assert ("COPY", "extension ./extension") in rows
    assert any(w == "RUN" and "--editable ." in args for w, args in rows)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in RUNTIME_ENTRIES:
        assert f"extension/{entry}" not in ignored and f"extension/{entry}/" not in ignored


def test_dockerignore_keeps_the_context_small():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*", "ignore everything, then allow what the image needs"
    for needed in ("pyproject.toml", "README.md", "papermirror/", "server/", "worker/"):
        assert f"!{needed}" in rules
    assert "extension/node_modules/" in rules


# --- the `ops` profile: rq-dashboard, a Redis exporter, Prometheus ------------------------
OPS_SERVICES = ("rq-dashboard", "redis-exporter", "prometheus")
OPS_DIR = ROOT / "ops"


def test_ops_services_run_only_with_the_ops_profile(spec):
    ops = {n for n, svc in spec["services"].items() if "ops" in svc.get("profiles", [])}
    assert ops == set(OPS_SERVICES)
    for name in OPS_SERVICES:
        assert spec["services"][name]["profiles"] == ["ops"]
        assert spec["services"][name]["restart"] == "unless-stopped"


def test_ops_ports_are_on_loopback_by_default_and_redis_exporter_is_private(services, spec):
    for name in ("rq-dashboard", "prometheus"):
        [port] = spec["services"][name]["ports"]
        assert compose.interpolate(port, {}).startswith("127.0.0.1:"), name
    assert "ports" not in spec["services"]["redis-exporter"]


def test_rq_dashboard_has_basic_auth_from_the_environment(services):
    dash = services["rq-dashboard"]
    env = dash.env
    assert env["RQ_DASHBOARD_REDIS_URL"] == "redis://redis:6379/0"
    assert env["RQ_DASHBOARD_USERNAME"] == "admin" and env["RQ_DASHBOARD_PASSWORD"] == ""
    dotenv = {"PAPERMIRROR_RQ_DASHBOARD_PASSWORD": "s3cret", "PAPERMIRROR_RQ_DASHBOARD_USER": "ops"}
    configured = compose.project(dotenv)["rq-dashboard"]
    assert configured.env["RQ_DASHBOARD_PASSWORD"] == "s3cret"
    assert configured.env["RQ_DASHBOARD_USERNAME"] == "ops"
    assert not any("s3cret" in a for a in configured.argv), "a password would show in ps"


def _dockerfile(path) -> dict[str, str]:
    text = path.read_text()
    return {
        line.split(" ", 1)[0]: line.split(" ", 1)[1]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


@pytest.mark.parametrize("password", ["", "s3cret"])
def test_rq_dashboard_refuses_to_start_without_a_password(tmp_path, password):
    rows = _dockerfile(OPS_DIR / "rq-dashboard.Dockerfile")
    assert "rq-dashboard==" in rows["RUN"]  # pinned
    assert rows["USER"] not in ("root", "0")
    entrypoint, cmd = json.loads(rows["ENTRYPOINT"]), json.loads(rows["CMD"])
    # The image's own entrypoint script, run here with a stand-in for rq-dashboard.
    fake = tmp_path / "rq-dashboard"
    fake.write_text('#!/bin/sh\necho "dashboard $*"\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "RQ_DASHBOARD_PASSWORD": password}
    run = subprocess.run([*entrypoint, *cmd], env=env, capture_output=True, text=True, timeout=30)
    if password:
        assert run.returncode == 0 and run.stdout.strip() == "dashboard " + " ".join(cmd)
    else:
        assert run.returncode == 1 and "PAPERMIRROR_RQ_DASHBOARD_PASSWORD" in run.stderr


def test_redis_exporter_reads_the_stack_redis_from_its_environment(services):
    exporter = services["redis-exporter"]
    assert exporter.env["REDIS_ADDR"] == "redis://redis:6379/0"
    assert not any("redis://" in a for a in exporter.argv)
    assert exporter.argv[exporter.argv.index("--web.listen-address") + 1] == ":9121"


def test_prometheus_scrapes_the_mirror_and_the_exporter(spec, services):
    prom = spec["services"]["prometheus"]
    assert "./ops/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prom["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"].argv
    config = yaml.safe_load((OPS_DIR / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets["redis"] == ["redis-exporter:9121"]
    # The mirror's target is the listener PAPERMIRROR_METRICS=0.0.0.0:9100 opens in web.
    [target] = targets["papermirror"]
    host, port = target.split(":")
    assert host == "web" and "PAPERMIRROR_METRICS=0.0.0.0:" + port in COMPOSE_FILE.read_text()
    kind, address = Settings.from_env({"PAPERMIRROR_METRICS": f"0.0.0.0:{port}"}).metrics_mode()
    assert (kind, address) == ("listen", ("0.0.0.0", int(port)))
