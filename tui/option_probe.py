"""Print an experiment's options as JSON: run as a subprocess by the TUI's launch form.

Importing an experiment module loads Keras, which the TUI process must never do, so the
form asks this helper instead: `python -m vitlab.tui.option_probe occlusion`.
"""

import json
import sys


def main(argv):
    from vitlab.experiments.options import schema_for

    print(json.dumps(schema_for(argv[0])["options"]))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # the form shows this line
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
