"""Print an experiment's options as JSON: run as a subprocess by the TUI's launch form.

Importing an experiment module loads Keras, which the TUI process must never do, so the
form asks this helper instead: `python -m vitlab.tui.option_probe occlusion`.
"""

import json
import sys


def type_text(hint):
    """'int', 'list[float]', 'str | None': the full type, so the form checks list elements too."""
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def main(argv):
    import typing

    from vitlab import config, experiments
    from vitlab.results.result import to_jsonable

    module = experiments.get(argv[0])
    hints = typing.get_type_hints(module.Config)
    rows = config.describe(module.Config)
    print(json.dumps([{"name": n, "type": type_text(hints[n]), "default": to_jsonable(d)} for n, _, d in rows]))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # the form shows this line
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
