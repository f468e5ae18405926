"""A labelled grid of samples as a PNG (for `vitlab data show`): look at the data before using it."""

import numpy as np


def take_samples(dataset, count):
    """Up to `count` examples of a Dataset as a dict of NumPy arrays."""
    parts = {}
    seen = 0
    for batch in dataset.batches():
        for key, value in batch.items():
            parts.setdefault(key, []).append(value)
        seen += len(batch["label"])
        if seen >= count:
            break
    return {key: np.concatenate(value)[:count] for key, value in parts.items()}


def _title(dataset, samples, i):
    name = dataset.class_names[samples["label"][i]] if samples["label"][i] < len(dataset.class_names) else "?"
    lines = [f"#{samples['index'][i]} {name}"]
    if "label2" in samples:
        second = samples["label2"][i]
        names = dataset.label2_names or dataset.class_names
        texture = names[second] if second < len(names) else second
        lines = [f"#{samples['index'][i]} shape: {name}", f"texture: {texture}"]
    return "\n".join(lines)


def save_grid(dataset, path, count=24, columns=8):
    """Write a grid of `count` samples with class names (and masks and both labels when present)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = take_samples(dataset, count)
    count = len(samples["label"])
    columns = max(1, min(columns, count))
    rows = int(np.ceil(count / columns))
    has_label2 = "label2" in samples
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(columns * 1.7, 0.5 + rows * (2.2 if has_label2 else 2.0)),
        squeeze=False,
        layout="constrained",
    )
    for i, axis in enumerate(axes.flat):
        axis.axis("off")
        if i >= count:
            continue
        axis.imshow(np.clip(samples["image"][i], 0, 1), interpolation="nearest")
        if "mask" in samples:
            axis.contour(samples["mask"][i], levels=[0.5], colors="red", linewidths=1.0)
        axis.set_title(_title(dataset, samples, i), fontsize=8)
    caption = f"{dataset.name} [{dataset.split}] {dataset.image_size}px, {dataset.num_classes} classes"
    if "mask" in samples:
        caption += " - red: foreground mask"
    figure.suptitle(caption, fontsize=10)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return count
