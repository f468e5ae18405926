"""The status of a run follows its process: running, then done, failed or interrupted.

SIGTERM is turned into KeyboardInterrupt so that a cancel from the TUI and Ctrl-C end the
same way: status 'interrupted', finished steps kept, the run resumable.
"""

import contextlib
import signal


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@contextlib.contextmanager
def active(run, report=True):
    """Mark `run` running for the duration of the block and record how it ended."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    run.set_status("running")
    try:
        yield run
    except KeyboardInterrupt:
        run.set_status("interrupted")
        run.event("error", message="interrupted; resume with --resume " + str(run.path))
        raise
    except BaseException as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        run.set_status("failed", error=message)
        run.event("error", message=message)
        raise
    else:
        if report:
            from vitlab.report import write_report

            write_report(run)
        run.set_status("done")
        run.event("done", message=f"finished: {run.path}")
    finally:
        signal.signal(signal.SIGTERM, previous)
