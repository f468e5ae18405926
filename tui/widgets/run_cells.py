"""How a run's models and headline fit the runs table's narrow columns: the models wrap over
the lines of the row (a study compares eight, and every one shows; only past MODEL_LINES
lines does a row end in '+N'), and a long headline wraps over a tall row so its value shows.
"""

import re

MODELS_WIDTH = 24
MODEL_LINES = 4
HEADLINE_CLIP = 40  # one line
HEADLINE_WRAP = 24  # a taller row's headline wraps at '/' and ' ' to this width


def clip(text, width):
    return text if len(text) <= width else text[: width - 1] + "…"


def _prefix(spec):
    """'zoo' for 'zoo:vit'; None for registry names, files and run directories."""
    head, colon, rest = spec.partition(":")
    return head if colon and rest and head.isidentifier() else None


def model_pieces(names):
    """The models as wrap-able pieces: neighbours with one prefix share it once
    ('zoo: vit, vit_nopos'), groups are separated by ';' and names by ','."""
    groups = []
    for name in names:
        prefix = _prefix(name)
        member = name.partition(":")[2] if prefix else name
        if groups and groups[-1][0] == prefix:
            groups[-1][1].append(member)
        else:
            groups.append((prefix, [member]))
    pieces = []
    for number, (prefix, members) in enumerate(groups):
        last_group = number == len(groups) - 1
        for index, member in enumerate(members):
            text = member
            if prefix is not None:
                text = f"{prefix}:{member}" if len(members) == 1 else (f"{prefix}: {member}" if index == 0 else member)
            if index < len(members) - 1:
                text += ","
            elif not last_group:
                text += ";"
            pieces.append(text)
    return pieces


def headline_lines(text, max_lines):
    """A long headline over the lines of a tall row ('occlusion/', 'top1_random_0.50/vit',
    '0.8125'), so its value shows in a narrow column; else one line, clipped."""
    if len(text) <= HEADLINE_WRAP or max_lines < 2:
        return [clip(text, HEADLINE_CLIP)]
    lines = [""]
    for token in re.findall(r"[^/ ]+/?|[^/ ]*[/ ]", text):  # 'occlusion/', 'vit', ' ', '0.81'
        if lines[-1].strip() and len(lines[-1] + token.rstrip()) > HEADLINE_WRAP:
            lines.append("")
        lines[-1] += token
    lines = [line.strip() for line in lines]
    if len(lines) > max_lines or max(map(len, lines)) > HEADLINE_WRAP:
        return [clip(text, HEADLINE_CLIP)]
    return lines


def model_lines(names, width=MODELS_WIDTH, max_lines=MODEL_LINES):
    """Lines of at most `width` characters holding every model; past `max_lines` the last
    line ends with '+N', the number of models left out (the filter still finds them)."""
    pieces = [clip(piece, width) for piece in model_pieces(names)]
    lines = []  # each a list of pieces
    for piece in pieces:
        if lines and len(" ".join(lines[-1])) + 1 + len(piece) <= width:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        shown = sum(map(len, lines))
        while len(" ".join(lines[-1] + [f"+{len(pieces) - shown}"])) > width and len(lines[-1]) > 1:
            lines[-1].pop()
            shown -= 1
        lines[-1] = [clip(" ".join(lines[-1] + [f"+{len(pieces) - shown}"]), width)]
    return [" ".join(line) for line in lines]
