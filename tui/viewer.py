"""Open files (report PNGs) with the system viewer, detached from the TUI."""

import shutil
import subprocess
import sys


def viewer_command():
    """The system's opener (`open` on macOS, `xdg-open` elsewhere), or None."""
    for name in ("open",) if sys.platform == "darwin" else ("xdg-open", "gio"):
        path = shutil.which(name)
        if path:
            return [path, "open"] if name == "gio" else [path]
    return None


def open_files(paths):
    """Open each path; returns False when no viewer exists (the caller shows the paths)."""
    command = viewer_command()
    if command is None:
        return False
    for path in paths:
        subprocess.Popen(
            command + [str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return True
