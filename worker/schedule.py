"""RQ cron configuration: the daily feed job, every weekday after arXiv rebuilds its feeds.

Run it with ``rq cron --url REDIS_URL worker.schedule`` (a module path; the
file path ``worker/schedule.py`` works too from the repository root).
docker-compose.yml's scheduler service runs exactly that.

rq cron matches cron fields against the scheduler process's local time, so
importing this module puts the process on US Eastern time, daylight saving
included: arXiv's schedule is Eastern, whatever the host's zone. The job runs
at ``PAPERMIRROR_DAILY_TIME`` (default 00:30), Monday to Friday; a catch-up
job, every half hour and at start, fetches a day whose run the machine missed.
The pending sweeper (worker.sweeper) runs every ``PAPERMIRROR_SWEEP_INTERVAL``
seconds, so a first visit whose fetch job was lost gets a new one.

`papermirror up` runs this schedule in a thread of its workers' process
(worker.run ``--cron``), not as a process of its own.
"""

from __future__ import annotations

import os
import time
import zoneinfo
from importlib import resources
from pathlib import Path

from rq import cron

from papermirror import keys
from papermirror.clock import daily_cron
from papermirror.settings import Settings
from worker.feeds import JOB_TIMEOUT, RESULT_TTL, catch_up, daily_fetch
from worker.sweeper import sweep

EASTERN = "America/New_York"
# Used only when no time zone database is installed: US rules since 2007.
EASTERN_POSIX = "EST5EDT,M3.2.0,M11.1.0"


def eastern_tz() -> str:
    """A ``TZ`` value for US Eastern that the C library understands on this machine.

    Slim container images may lack /usr/share/zoneinfo; then the zone file of
    the ``tzdata`` package is named by path, and failing that, the POSIX rule.
    """
    for root in zoneinfo.TZPATH:
        if (Path(root) / EASTERN).is_file():
            return ":" + str(Path(root) / EASTERN)
    try:
        path = resources.files("tzdata.zoneinfo").joinpath(EASTERN)
        if path.is_file():
            return ":" + str(path)
    except ModuleNotFoundError:
        pass
    return EASTERN_POSIX


def use_eastern_time() -> None:
    """Put this process's local time on US Eastern (what rq cron reads)."""
    os.environ["TZ"] = eastern_tz()
    time.tzset()


use_eastern_time()
settings = Settings.from_env()
cron.register(
    daily_fetch,
    keys.FETCH_QUEUE,
    kwargs={"expect": "today"},
    cron=daily_cron(settings.daily_time),
    job_timeout=JOB_TIMEOUT,
    result_ttl=RESULT_TTL,
    failure_ttl=RESULT_TTL,
    name="daily-feeds",
)
# Also at start-up: a day whose scheduled run was missed is fetched late rather than never.
cron.register(
    catch_up,
    keys.FETCH_QUEUE,
    interval=1800,
    job_timeout=JOB_TIMEOUT,
    result_ttl=3600,
    failure_ttl=RESULT_TTL,
    name="daily-feeds-catch-up",
)
# Every pending first visit keeps a job that will fetch it (see worker.sweeper).
cron.register(
    sweep,
    keys.FETCH_QUEUE,
    kwargs={"older_than": settings.sweep_after},
    interval=settings.sweep_interval,
    job_timeout=60,
    result_ttl=0,
    failure_ttl=3600,
    name="pending-sweeper",
)
