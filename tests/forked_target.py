"""Run by tests/test_forked.py as ``python -m tests.forked_target OUT MODE``: reports what a
forked child sees to OUT (JSON), then ends as MODE says."""

import json
import logging
import os
import signal
import sys

if __name__ == "__main__":
    out, mode = sys.argv[1], sys.argv[2]
    seen = {
        "argv": sys.argv,
        "env": os.environ.get("FORKED_TARGET"),
        "has_home": "HOME" in os.environ,
        "own_session": os.getsid(0) == os.getpid(),
        "sigterm_default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
        "root_handlers": len(logging.getLogger().handlers),
        "cmdline": open("/proc/self/cmdline", "rb").read().replace(b"\0", b" ").decode(),
    }
    with open(out, "w") as f:
        json.dump(seen, f)
    if mode == "exit-3":
        sys.exit(3)
    if mode == "message":
        sys.exit("a message")
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "sleep":
        signal.pause()
