# rq-dashboard for the compose stack's `ops` profile, pinned, with basic auth required.
# docker-compose.yml builds it; its settings come from RQ_DASHBOARD_* variables
# (rq-dashboard's own prefix), so the password never shows in `ps`.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN pip install rq-dashboard==0.9.0
USER 10001:10001
# Refuse to serve the job registry to anyone without a password.
ENTRYPOINT ["sh", "-c", "test -n \"$RQ_DASHBOARD_PASSWORD\" || { echo 'rq-dashboard: set PAPERMIRROR_RQ_DASHBOARD_PASSWORD in .env' >&2; exit 1; }; exec rq-dashboard \"$@\"", "rq-dashboard"]
CMD ["--bind", "0.0.0.0", "--port", "9181"]
