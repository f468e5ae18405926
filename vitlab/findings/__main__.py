"""`python -m vitlab.findings ...`: the same as `vitlab findings ...` (vitlab.commands.findings),
kept for scripts written before the command joined the CLI."""

import sys

from vitlab.cli import main

if __name__ == "__main__":
    sys.argv[1:1] = ["findings"]  # main() then runs as the `vitlab` command itself would
    main()
