"""papermirror.malloc: freed heap memory goes back to the system, now or a moment later."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.stack import ROOT

# 50 MB in blocks below glibc's mmap threshold, so in the heap; the last one stays,
# so free() alone cannot shrink the heap from its top: only a trim gives it back.
SCRIPT = textwrap.dedent(
    """
    import sys, time
    from papermirror import malloc

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024

    blocks = [bytearray(100_000) for _ in range(500)]
    keep = blocks[-1]
    del blocks
    time.sleep(0.2)
    held = rss_mb()
    if sys.argv[1] == "soon":
        malloc.Trimmer(delay=0.2).request()
    time.sleep(1.5)
    print(held, rss_mb())
    """
)


def rss_before_and_after(mode: str) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, check=True
    )
    held, after = map(int, out.stdout.split())
    return held, after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_a_requested_trim_gives_the_freed_heap_back_in_the_background():
    held, after = rss_before_and_after("never")
    assert after > held - 10, "freed without a trim: the test shows nothing"
    held, after = rss_before_and_after("soon")
    assert held - after >= 30, (held, after)


# A worker that wrote a record holds the level-17 compressor's tables until its
# trim drops them (worker.run registers codec.forget_compressors).
COMPRESSOR_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from papermirror import codec, malloc

    def rss_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1])

    row = b'["2411.12345",1,"A title about graphs",["Ada Lovelace"],"' + b"words " * 300 + b'"]'
    blob = codec.encode_serialized(row, codec.LEVEL)
    time.sleep(0.2)
    held = rss_kb()
    trimmer = malloc.Trimmer(delay=0.1)
    if sys.argv[1] == "forget":
        trimmer.releases.append(codec.forget_compressors)
    trimmer.request()
    time.sleep(1.0)
    after = rss_kb()
    assert codec.encode_serialized(row, codec.LEVEL) == blob  # built again, same bytes
    print(held, after)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_a_trim_with_the_codec_release_frees_the_compressor_tables():
    def freed_kb(mode: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", COMPRESSOR_SCRIPT, mode],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        held, after = map(int, out.stdout.split())
        return held - after

    assert freed_kb("keep") < 1_000
    assert freed_kb("forget") >= 3_000
