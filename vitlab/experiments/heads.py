"""Head modes in one place: which output of a model an experiment scores or attacks.

A distilled DeiT has two heads (class token, distillation/shape token) and their average
(DeiT's inference rule); every other model has one head, which all three modes select.
"""

from vitlab.config import ConfigError

HEADS = ("class", "dist", "average")


def check_head(head, field="head"):
    """Refuse an unknown head mode, naming the config field."""
    if head not in HEADS:
        raise ConfigError(f"{field}: expected {', '.join(HEADS)}, got {head!r}")
    return head


def check_heads(heads, field="heads"):
    if not heads:
        raise ConfigError(f"{field}: needs at least one of {', '.join(HEADS)}")
    for head in heads:
        check_head(head, field)
    return list(dict.fromkeys(heads))


def heads_for(adapter, heads):
    """The heads a model can be read through: all asked for a DeiT, its one head otherwise."""
    return list(heads) if adapter.has_dist_token else ["class"]


def effective(adapter, head):
    """The head actually read: models without a distillation head answer with their only one."""
    return head if adapter.has_dist_token else "class"


def head_logits(adapter, head):
    """logits_fn(images) of one head of a model."""
    chosen = effective(adapter, head)
    return lambda images: adapter.logits(images, head=chosen)


def subject(adapter, head):
    """The summary subject for a (model, head): 'deit/dist' for DeiTs, the model name otherwise."""
    return f"{adapter.name}/{head}" if adapter.has_dist_token else adapter.name
