"""Adversarial robustness: FGSM / PGD accuracy vs epsilon, per model and head, with transfer.

White-box: each model is attacked through one head (class token, distillation/shape token,
or their average) and judged by that head. Transfer: the examples crafted on a source model
(through `transfer_head`) are shown to every model of the run, giving a source x target
accuracy matrix per attack and epsilon, as the paper compares ViTs with CNNs.
"""

import dataclasses

import numpy as np

from vitlab.config import ConfigError
from vitlab.experiments import heads as heads_lib
from vitlab.experiments.base import Experiment, Metric
from vitlab.experiments.heads import head_logits, heads_for
from vitlab.perturb import adversarial as lib
from vitlab.perturb.compiled import compile_logits
from vitlab.results.result import Curve, Result, Table

ATTACKS = ("fgsm", "pgd")


@dataclasses.dataclass
class Config:
    attacks: list[str] = dataclasses.field(default_factory=lambda: ["fgsm", "pgd"])
    epsilons: list[float] = dataclasses.field(default_factory=lambda: [0.0, 1 / 255, 2 / 255, 4 / 255, 8 / 255])
    norm: str = "linf"  # or "l2" (then give epsilons as L2 radii, e.g. 0.25,0.5,1.0)
    steps: int = 10  # PGD iterations
    step_size: float | None = None  # PGD step in pixel units; default 2.5 * eps / steps
    random_start: bool = True
    targeted: bool = False  # move towards a random other class instead of away from the label
    heads: list[str] = dataclasses.field(default_factory=lambda: ["class", "dist", "average"])
    transfer: bool = True
    transfer_head: str = "average"

    def validate(self):
        for attack in self.attacks:
            if attack not in ATTACKS:
                raise ConfigError(f"attacks: unknown attack {attack!r}; choose from {', '.join(ATTACKS)}")
        heads_lib.check_heads(self.heads)
        heads_lib.check_head(self.transfer_head, "transfer_head")
        if self.steps < 1:
            raise ConfigError(f"steps: must be at least 1, got {self.steps}")
        try:
            lib.check_attack(self.norm, self.epsilons)
        except lib.AttackError as error:
            raise ConfigError(str(error)) from None


def _eps_label(eps, norm):
    return f"{eps * 255:g}/255" if norm == "linf" else f"{eps:g}"


def _per_image(context, indices, key, make):
    return np.stack([make(context.rng(int(i), key)) for i in indices])


def run(adapters, data, config, context):
    names = [a.name for a in adapters]
    eps_list = [float(e) for e in config.epsilons]
    head_axis = list(dict.fromkeys(config.heads))
    accuracy_hits = np.full((len(adapters), len(head_axis), len(config.attacks), len(eps_list)), np.nan)
    transfer_hits = np.zeros((len(config.attacks), len(eps_list), len(adapters), len(adapters)))
    target_hits = np.full_like(accuracy_hits, np.nan)
    judges = [compile_logits(head_logits(a, config.transfer_head)) for a in adapters]
    steps = {}  # (model, head) -> (row of the head axis, compiled attack step, compiled logits)
    sources = {}  # model -> the head whose examples are transferred
    for m, adapter in enumerate(adapters):
        heads = heads_for(adapter, head_axis)
        sources[m] = config.transfer_head if config.transfer_head in heads else heads[0]
        for head in heads:
            fn = head_logits(adapter, head)
            row = head_axis.index(head) if head in head_axis else 0
            steps[(m, head)] = (row, lib.compile_step(fn, config.norm), compile_logits(fn))
            accuracy_hits[m, row] = target_hits[m, row] = 0
    total, done = 0, 0
    for batch in data.batches():
        images, labels, indices = batch["image"], batch["label"], batch["index"]
        unit = _per_image(
            context,
            indices,
            1,  # a random start in the unit ball, scaled by eps below
            lambda rng: lib.random_start((1, *images.shape[1:]), 1.0, config.norm, rng)[0],
        )
        targets = None
        if config.targeted:
            shift = _per_image(context, indices, 2, lambda rng: rng.integers(1, max(data.num_classes, 2)))
            targets = (labels + shift) % data.num_classes
        for (m, head), (h, step, predict) in steps.items():
            for a, attack in enumerate(config.attacks):
                for e, eps in enumerate(eps_list):
                    if attack == "fgsm":
                        adv = lib.fgsm(step, images, labels, eps, config.norm, targets=targets)
                    else:
                        noise = unit * eps if config.random_start else None
                        adv = lib.pgd(
                            step,
                            images,
                            labels,
                            eps,
                            config.norm,
                            config.steps,
                            config.step_size,
                            noise=noise,
                            targets=targets,
                        )
                    predictions = predict(adv).argmax(-1)
                    accuracy_hits[m, h, a, e] += int((predictions == labels).sum())
                    if targets is not None:
                        target_hits[m, h, a, e] += int((predictions == targets).sum())
                    if config.transfer and head == sources[m]:
                        for t, judge in enumerate(judges):
                            transfer_hits[a, e, m, t] += int((judge(adv).argmax(-1) == labels).sum())
        total += len(labels)
        done += len(labels)
        context.progress(done, data.num_examples or done)
    accuracy = accuracy_hits / max(total, 1)
    labels_of = [(lambda head, a=a: f"{a.name}/{head}" if a.has_dist_token else a.name) for a in adapters]
    result = _result(names, labels_of, head_axis, eps_list, config, accuracy, transfer_hits / max(total, 1))
    result.notes.append(
        "transfer: examples crafted through "
        + ", ".join(f"{names[m]}/{head}" for m, head in sources.items())
        + f"; judged by each model's {config.transfer_head} head"
    )
    if config.targeted:
        result.arrays["targeted_success"] = target_hits / max(total, 1)
    return result


def _result(names, labels_of, head_axis, eps_list, config, accuracy, transfer):
    x = [e * 255 for e in eps_list] if config.norm == "linf" else eps_list
    x_label = "epsilon (x/255, L-inf)" if config.norm == "linf" else "epsilon (L2)"
    curves, tables, summary = [], [], {}
    for a, attack in enumerate(config.attacks):
        series, rows = {}, []
        for m, model in enumerate(names):
            for h, head in enumerate(head_axis):
                values = accuracy[m, h, a]
                if np.isnan(values).all():
                    continue
                label = labels_of[m](head)
                series[label] = values.tolist()
                rows.append([model, head, *map(float, values)])
                summary[f"{attack}@{_eps_label(eps_list[-1], config.norm).replace('/', '_')}/{label}"] = float(
                    values[-1]
                )
        curves.append(
            Curve(
                title=f"{attack.upper()} accuracy vs epsilon",
                x_label=x_label,
                y_label="top-1 accuracy",
                x=x,
                series=series,
            )
        )
        tables.append(
            Table(
                title=f"{attack.upper()} accuracy ({config.norm}, {'targeted' if config.targeted else 'untargeted'})",
                columns=["model", "head", *[_eps_label(e, config.norm) for e in eps_list]],
                rows=rows,
            )
        )
    if config.transfer and len(names) > 1:
        for a, attack in enumerate(config.attacks):
            e = len(eps_list) - 1
            tables.append(
                Table(
                    title=f"{attack.upper()} transfer at eps {_eps_label(eps_list[e], config.norm)}: "
                    f"rows craft (source), columns judge (target)",
                    columns=["source \\ target", *names],
                    rows=[[src, *map(float, transfer[a, e, s])] for s, src in enumerate(names)],
                )
            )
    arrays = {"accuracy": accuracy, "epsilons": np.array(eps_list)}
    if config.transfer:
        arrays["transfer"] = transfer
    notes = [
        f"accuracy axes: model x head ({', '.join(head_axis)}) x attack ({', '.join(config.attacks)}) x "
        f"epsilon; models without a distillation token are attacked through their one head (stored as "
        f"'class')",
        f"PGD: {config.steps} steps, step size "
        f"{config.step_size if config.step_size is not None else '2.5*eps/steps'}, random start "
        f"{config.random_start}",
    ]
    return Result(
        experiment="adversarial",
        config={"heads_axis": head_axis},
        models=list(names),
        arrays=arrays,
        curves=curves,
        tables=tables,
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="adversarial",
    description="FGSM / PGD accuracy vs epsilon, per head, with transfer.",
    Config=Config,
    run=run,
    metrics=(
        Metric("{attack}@{epsilon}", "top-1 accuracy under the attack at the largest epsilon (L-inf: 8_255 = 8/255)"),
    ),
    smoke=dict(epsilons=[0.0, 2 / 255], steps=2),
)
