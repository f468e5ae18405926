"""Option values that more than one command group parses, parsed one way."""


def parse_seeds(text, option="--seeds"):
    """'0,1,2' -> [0, 1, 2]: one or more distinct integers >= 0, or a one-line UserError."""
    from vitlab.errors import UserError

    try:
        seeds = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise UserError(f"{option} {text!r}: expected comma-separated integers like 0,1,2") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise UserError(f"{option} {text!r}: expected distinct integers >= 0 like 0,1,2")
    return seeds
