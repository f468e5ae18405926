"""Child processes that a stop reaches: a command run to its end (run_child) whose child
records its run as interrupted on SIGTERM or Ctrl-C instead of training on alone, and the set of
children of a parallel run (Children), stopped together. Used by every long command that runs
`vitlab recipe run` in a process of its own (the zoo build, the study, the findings)."""

import signal
import subprocess
import threading
import time

CHILD_GRACE_S = 30  # an interrupted `recipe run` records its status and leaves within a second


class Children:
    """The child processes of a parallel run (vitlab.study.runner.train_parallel), stopped
    together. Once stopping, a child that starts anyway (its thread was already past its last
    check) is sent SIGTERM as it is added, so none is left training alone."""

    def __init__(self):
        self.processes, self.stopping, self.lock = set(), False, threading.RLock()

    def add(self, process):
        with self.lock:
            self.processes.add(process)
            stopping = self.stopping
        if stopping:
            process.send_signal(signal.SIGTERM)

    def discard(self, process):
        with self.lock:
            self.processes.discard(process)

    def stop(self, signum=None, frame=None):
        """SIGTERM to every child now (a signal handler too)."""
        with self.lock:
            self.stopping = True
            processes = list(self.processes)
        for process in processes:
            process.send_signal(signal.SIGTERM)

    def stop_after_grace(self):
        """After Ctrl-C, which the terminal sent the children too: CHILD_GRACE_S for them to record
        their runs as interrupted, then SIGTERM, then SIGKILL, as `run_child` does for one child."""
        with self.lock:
            self.stopping = True
        for ask in (None, "terminate", "kill"):
            with self.lock:
                processes = list(self.processes)
            for process in processes if ask else ():
                getattr(process, ask)()
            deadline = time.monotonic() + CHILD_GRACE_S
            while self.processes and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.processes:
                return


def run_child(command, poll_every=None, on_poll=lambda: None, env=None, children=None):
    """Run `command` to its end and return its exit code, calling `on_poll` every `poll_every`
    seconds. A SIGTERM to this process is passed on to the child, which then records its run
    as interrupted (run_status) instead of training on alone; on Ctrl-C (which the terminal sends
    to both) the child is given CHILD_GRACE_S to do that, then SIGTERM, then SIGKILL. Called from
    a thread other than the main one, forwarding is the caller's: the child is in `children` (a
    `Children`) while it runs."""
    process = subprocess.Popen(command, env=env)
    if children is not None:
        children.add(process)
    forwarding = threading.current_thread() is threading.main_thread()
    if forwarding:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                return process.wait(timeout=poll_every)
            except subprocess.TimeoutExpired:
                on_poll()
    except BaseException:
        _stop(process)
        raise
    finally:
        if forwarding:
            signal.signal(signal.SIGTERM, previous)
        if children is not None:
            children.discard(process)


def _stop(process):
    for ask in (None, process.terminate, process.kill):
        if ask:
            ask()
        try:
            process.wait(timeout=CHILD_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue
