"""docker-compose.yml read the way Docker Compose reads it, for tests that have no Docker engine.

:func:`project` interpolates ``${VAR:-default}`` from a .env mapping, as Compose
does, and gives each service's command, environment, healthcheck and replicas.
:func:`localize` rewrites one service for a local process: the container's ports
become free loopback ports, the service host names (``redis``) become 127.0.0.1
and the image's programs become this machine's. Nothing else changes.

``.env.example`` is generated here from ``papermirror.settings`` so that it
documents every setting and cannot drift: ``python -m tests.compose > .env.example``.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from papermirror.settings_doc import settings_table

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"

# Variables docker-compose.yml reads that are not Paper Mirror settings.
COMPOSE_VARIABLES = {
    "PAPERMIRROR_PUBLISH_ADDRESS": "host address the web server is published on; "
    "127.0.0.1 when a reverse proxy on the same host serves it",
    "PAPERMIRROR_PUBLISH_PORT": "host port the web server is published on",
    # --- operations (the `ops` profile) ---
    "PAPERMIRROR_OPS_PUBLISH_ADDRESS": "ops profile: host address rq-dashboard (9181) and "
    "Prometheus (9090) are published on",
    "PAPERMIRROR_RQ_DASHBOARD_USER": "ops profile: rq-dashboard's basic-auth user",
    "PAPERMIRROR_RQ_DASHBOARD_PASSWORD": "ops profile: rq-dashboard's basic-auth password "
    "(required: it does not start without one)",
}
# Lines set in .env.example (the others are commented-out defaults).
ACTIVE = ("PAPERMIRROR_PUBLISH_ADDRESS", "PAPERMIRROR_PUBLISH_PORT", "PAPERMIRROR_CONTACT")
# What a setting means in the compose stack, where that differs from `papermirror up`.
COMPOSE_NOTES = {
    "PAPERMIRROR_REDIS_URL": "compose: the stack's own redis service (set it to use another Redis)",
    "PAPERMIRROR_DATA_DIR": "compose: not used; Redis keeps its data in the redis-data volume",
    "PAPERMIRROR_HOST": "compose: not used; see PAPERMIRROR_PUBLISH_ADDRESS",
    "PAPERMIRROR_SEARCH_DIR": "compose: not used; the index lives in the search-index volume",
    "PAPERMIRROR_PORT": "compose: not used; see PAPERMIRROR_PUBLISH_PORT",
    "PAPERMIRROR_WORKERS": "compose: worker containers; `docker compose up -d --scale worker=N` "
    "overrides it",
    "PAPERMIRROR_FORWARDED_ALLOW_IPS": "compose: `*` behind a reverse proxy on this host, with "
    "PAPERMIRROR_PUBLISH_ADDRESS=127.0.0.1 (the proxy reaches the container from Docker's bridge)",
    "PAPERMIRROR_ACCESS_LOG": "compose: not used; the web service logs requests to its container "
    "log (`docker compose logs web`)",
}


class InterpolationError(ValueError):
    """A ``${VAR:?message}`` whose variable is unset, or a malformed expression."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(text: str, env: dict[str, str]) -> str:
    """``text`` with ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``, ``${VAR:?e}``,
    ``${VAR?e}``, ``${VAR:+r}``, ``${VAR+r}`` and ``$$`` expanded as Compose does."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i + 2)
            out.append(_expand(text[i + 2 : end], env))
            i = end + 1
        elif m := _NAME.match(text, i + 1):
            out.append(env.get(m[0], ""))
            i = m.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text.startswith("${", j):
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise InterpolationError(f"unclosed ${{ in {text!r}")


def _expand(expr: str, env: dict[str, str]) -> str:
    m = _NAME.match(expr)
    if not m:
        raise InterpolationError(f"bad variable in ${{{expr}}}")
    name, rest = m[0], expr[m.end() :]
    value = env.get(name)
    if not rest:
        return value or ""
    op = next((o for o in (":-", ":?", ":+", "-", "?", "+") if rest.startswith(o)), None)
    if op is None:
        raise InterpolationError(f"bad operator in ${{{expr}}}")
    arg = rest[len(op) :]
    # ":" ops treat an empty value as unset; the bare ones only an unset one.
    present = bool(value) if op.startswith(":") else value is not None
    if op.endswith("-"):
        return value if present else interpolate(arg, env)
    if op.endswith("+"):
        return interpolate(arg, env) if present else ""
    if not present:
        raise InterpolationError(f"{name}: {interpolate(arg, env) or 'required'}")
    return value


def read_env_file(path: Path) -> dict[str, str]:
    """A .env file as Compose reads it: KEY=VALUE lines, # comments, optional quotes."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if value[:1] in ("'", '"') and value.endswith(value[0]) and len(value) > 1:
            value = value[1:-1]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0]
        env[key.strip()] = value
    return env


def load() -> dict:
    """docker-compose.yml as data, YAML anchors and merge keys resolved, not interpolated."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _interpolate_all(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_all(v, env) for v in node]
    if isinstance(node, dict):
        return {k: _interpolate_all(v, env) for k, v in node.items()}
    return node


def variable_defaults() -> dict[str, str]:
    """Each ``${VAR:-default}`` docker-compose.yml reads, with its default."""
    text = COMPOSE_FILE.read_text()
    return dict(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}", text))


def variables() -> set[str]:
    """Every variable docker-compose.yml interpolates."""
    # ``$$NAME`` is an escaped dollar for the container's shell, not a compose variable.
    text = COMPOSE_FILE.read_text().replace("$$", "")
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))


@dataclass(frozen=True)
class Service:
    """One compose service, interpolated: what its container would run."""

    name: str
    argv: list[str]
    env: dict[str, str]
    healthcheck: list[str] | None
    replicas: int


def project(dotenv: dict[str, str]) -> dict[str, Service]:
    """The services of docker-compose.yml, with ``dotenv`` as the project's .env file.

    As in Compose, ``dotenv`` feeds the interpolation and each ``env_file`` entry
    naming ``.env``; ``environment`` wins over ``env_file``. The shell's own
    environment is left out on purpose: a test must not depend on it.
    """
    data = _interpolate_all(load(), dotenv)
    services = {}
    for name, spec in data["services"].items():
        env: dict[str, str] = {}
        for entry in spec.get("env_file") or []:
            path = entry["path"] if isinstance(entry, dict) else entry
            env.update(dotenv if path == ".env" else read_env_file(ROOT / path))
        environment = spec.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        env.update({k: "" if v is None else str(v) for k, v in environment.items()})
        test = (spec.get("healthcheck") or {}).get("test")
        if test and test[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError(f"{name}: healthcheck test must be a CMD list")
        services[name] = Service(
            name=name,
            argv=[str(a) for a in spec["command"]],
            env=env,
            healthcheck=[str(a) for a in test[1:]] if test else None,
            replicas=int((spec.get("deploy") or {}).get("replicas", 1)),
        )
    return services


def local_program(name: str) -> str:
    """This machine's counterpart of a program the images run."""
    if name in ("redis-server", "redis-cli"):
        return f"/usr/bin/{name}"  # Debian's, as the official image has its own build
    if name == "python":
        return sys.executable
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def localize(service: Service, ports: dict[str, tuple[int, int]]) -> Service:
    """``service`` as a local process. ``ports`` maps a service to (container port, local port).

    The container's own ``0.0.0.0:P`` and ``127.0.0.1:P`` become ``127.0.0.1:local``;
    ``//service:P`` in any URL becomes ``//127.0.0.1:local``, as Compose's DNS would
    route it; Redis, which takes its port from no argument, gets ``--port`` and
    ``--bind``, and its CLI ``-p``.
    """

    def rewrite(text: str) -> str:
        for host, (inner, local) in ports.items():
            text = text.replace(f"//{host}:{inner}", f"//127.0.0.1:{local}")
            if host == service.name:
                for own in ("0.0.0.0", "127.0.0.1"):
                    text = text.replace(f"{own}:{inner}", f"127.0.0.1:{local}")
        return text

    argv = [rewrite(a) for a in service.argv]
    check = [rewrite(a) for a in service.healthcheck] if service.healthcheck else None
    if argv[0] == "redis-server" and service.name in ports:
        argv += ["--port", str(ports[service.name][1]), "--bind", "127.0.0.1"]
        check = [check[0], "-p", str(ports[service.name][1]), *check[1:]] if check else None
    argv[0] = local_program(argv[0])
    if check:
        check[0] = local_program(check[0])
    env = {k: rewrite(v) for k, v in service.env.items()}
    return replace(service, argv=argv, env=env, healthcheck=check)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, args = line.partition(" ")
            rows.append((word.upper(), args.strip()))
    return rows


def render_env_example() -> str:
    """The text .env.example must hold: every setting, documented, with its compose default."""
    defaults = variable_defaults()
    lines = [
        "# Paper Mirror settings for `docker compose`: copy this file to .env and edit it.",
        "# A line starting with '# PAPERMIRROR_' shows a default that is in force; remove",
        "# the '# ' to change it. Values are plain text, without quotes.",
        "# Generated from papermirror/settings.py: python -m tests.compose > .env.example",
        "",
        "## Docker Compose",
    ]
    for name, doc in COMPOSE_VARIABLES.items():
        lines += ["", f"# {doc}", _assignment(name, defaults[name])]
    lines += ["", "## Paper Mirror"]
    for name, default, doc in settings_table():
        lines += ["", f"# {doc}"]
        if name in COMPOSE_NOTES:
            lines.append(f"# {COMPOSE_NOTES[name]}")
        lines.append(_assignment(name, defaults.get(name, default)))
    return "\n".join(lines) + "\n"


def _assignment(name: str, value: str) -> str:
    return f"{name}={value}" if name in ACTIVE else f"# {name}={value}"


if __name__ == "__main__":
    sys.stdout.write(render_env_example())
