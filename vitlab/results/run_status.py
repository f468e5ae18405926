"""The status of a run follows its process: running, then done, failed or interrupted.

SIGTERM is turned into KeyboardInterrupt so that a cancel from the TUI and Ctrl-C end the
same way (both are remembered, so one that TensorFlow hands back as another error still counts): status 'interrupted', finished steps kept, the run resumable. While a process
works in a run it holds an exclusive lock on RUN/.lock (flock: the kernel drops it when the
process dies, even by SIGKILL), so two launches or two resumes never write one run.
"""

import contextlib
import fcntl
import os
import signal

from vitlab.results.store import RunStoreError

LOCK_FILE = ".lock"


@contextlib.contextmanager
def exclusive(run):
    """Hold RUN/.lock for the block; refuse at once when another live process holds it."""
    handle = open(run.path / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunStoreError(f"{run.path}: in use by {holder}; wait for it to finish or stop it") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        yield run
    finally:
        handle.close()


@contextlib.contextmanager
def active(run, report=True):
    """Mark `run` running for the duration of the block and record how it ended."""
    with exclusive(run):
        yield from _active(run, report)


def _active(run, report):
    def interrupt(signum, frame):
        run.cancel_requested = run.cancelled = True  # raised again at the next event if this one is swallowed
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    # Ctrl-C the same way, so that one TensorFlow wraps is a cancel too; where SIGINT is ignored
    # (a background job's) or someone else handles it, it is left alone
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)
    run.set_status("running")
    try:
        yield run
        if run.cancel_requested:  # cancelled, its interrupt swallowed, and no event since
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        _record_interrupt(run)
        raise
    except BaseException as error:
        if run.cancel_requested or run.cancelled:
            # the interrupt came back as another error (TensorFlow wraps what a callback raises
            # inside its C++ loop): still a cancel
            _record_interrupt(run)
            raise KeyboardInterrupt from error
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        run.set_status("failed", error=message)
        run.event("error", message=message)
        raise
    else:
        if report:
            from vitlab.report.markdown import write_report

            write_report(run)
        run.set_status("done")
        run.event("done", message=f"finished: {run.path}")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_int)


def _record_interrupt(run):
    run.cancel_requested = run.cancelled = False
    run.set_status("interrupted")
    run.event("error", message="interrupted; resume with --resume " + str(run.path))
