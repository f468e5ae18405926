"""`vitlab zoo build` trains in a child process: a stop sent to the build must reach the child,
so no training goes on alone after the build has gone. Light processes stand in for the
TensorFlow ones (the real child's handling of SIGTERM is tests/test_kill_anywhere.py's)."""

import os
import signal
import subprocess
import sys
import time

# The stand-in for `vitlab recipe run`: says it started, trains (sleeps) until SIGTERM, then
# records that it was stopped and leaves with 130, as run_status and the CLI do.
CHILD = """
import signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
def stopped(signum, frame):
    out.with_name("child-stopped").write_text(str(signum))
    sys.exit(130)
signal.signal(signal.SIGTERM, stopped)
out.with_name("child-started").write_text("yes")
time.sleep(60)
"""

# The build's side: vitlab.child_process.run_child with a short poll and grace, exit code as the CLI's.
PARENT = """
import signal, sys
from pathlib import Path
from vitlab import child_process as build
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background shell's children inherit SIGINT ignored
build.CHILD_GRACE_S = 1
out = Path(sys.argv[1])
polls = out.with_name("polls")
def on_poll():
    polls.write_text(polls.read_text() + "p" if polls.exists() else "p")
try:
    code = build.run_child([sys.executable, "-c", sys.argv[2], str(out)], 0.2, on_poll)
except KeyboardInterrupt:
    code = 99
sys.exit(code)
"""


def _start(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "x"), CHILD])
    deadline = time.time() + 20
    while not (tmp_path / "child-started").exists():
        assert time.time() < deadline, "the child did not start"
        time.sleep(0.05)
    time.sleep(0.5)  # a few polls
    return parent


def test_sigterm_to_the_build_stops_its_child_and_returns_the_childs_code(tmp_path):
    parent = _start(tmp_path)
    started = time.time()
    os.kill(parent.pid, signal.SIGTERM)
    assert parent.wait(timeout=10) == 130  # the child's code: the build then says "interrupted"
    assert time.time() - started < 5
    assert (tmp_path / "child-stopped").read_text() == str(int(signal.SIGTERM))
    assert len((tmp_path / "polls").read_text()) >= 2  # the build packed (polled) while it waited


def test_ctrl_c_to_the_build_alone_gives_the_child_its_grace_then_stops_it(tmp_path):
    # A terminal's Ctrl-C reaches both; a SIGINT to the build alone must not orphan the child.
    parent = _start(tmp_path)
    started = time.time()
    os.kill(parent.pid, signal.SIGINT)
    assert parent.wait(timeout=30) == 99  # KeyboardInterrupt raised on, after the child ended
    assert 1 <= time.time() - started < 15  # the grace (1 s here), then SIGTERM (slack for a loaded machine)
    assert (tmp_path / "child-stopped").read_text() == str(int(signal.SIGTERM))
