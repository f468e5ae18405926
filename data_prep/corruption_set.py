"""ImageNet-C style corruption sets on disk: `vitlab data prepare corruptions`.

Layout of a set (one file per (corruption, severity), so an experiment reads one subset
without touching or regenerating the others):

    OUT/manifest.json              what was corrupted, how, and which pairs are finished
    OUT/clean.npz                  image (N,H,W,3) uint8, label, index[, label2]
    OUT/<corruption>/<severity>.npz  image (N,H,W,3) uint8 (same order as clean.npz)

Work is split into (corruption, severity, image range) chunks run by a process pool; a
pair's file is written atomically once all its chunks are back, so a killed run resumes
with the pairs it has not finished. Pixels do not depend on the number of workers: every
image's random corruption is seeded from (seed, corruption, severity, image index).
"""

import json
import multiprocessing
import time
from pathlib import Path

import numpy as np

from vitlab import atomic
from vitlab.data.corruption_set import CLEAN, FORMAT, MANIFEST, CorruptionSetError, pair_file
from vitlab.perturb import corruptions as corruption_lib

SLOW_FIRST = ("glass_blur", "defocus_blur", "zoom_blur", "frost", "jpeg_compression")  # longest tasks start first


def _atomic_savez(path, **arrays):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(path) as temp, open(temp, "wb") as stream:
        np.savez(stream, **arrays)


def _atomic_json(path, value):
    atomic.write_json(path, value, indent=2)


def _collect(data):
    """All images of a Dataset as uint8 arrays (corruption works on 8-bit images, as ImageNet-C)."""
    columns = {"image": [], "label": [], "index": [], "label2": []}
    for batch in data.batches():
        columns["image"].append(corruption_lib.to_uint8(batch["image"]))
        columns["label"].append(np.asarray(batch["label"], "int32"))
        columns["index"].append(np.asarray(batch["index"], "int64"))
        if "label2" in batch:
            columns["label2"].append(np.asarray(batch["label2"], "int32"))
    if not columns["image"]:
        raise CorruptionSetError(f"dataset {data.name!r} split {data.split!r} has no images")
    return {key: np.concatenate(values) for key, values in columns.items() if values}


# --- worker side: the images are sent once per worker, tasks are just index ranges -------------
_WORKER_STATE = {}


def _init_worker(images, indices, seed):
    _WORKER_STATE.update(images=images, indices=indices, seed=seed)


def _run_chunk(task):
    corruption, severity, start, stop = task
    images = _WORKER_STATE["images"][start:stop]
    indices = _WORKER_STATE["indices"][start:stop]
    out = corruption_lib.corrupt_batch(images, corruption, severity, _WORKER_STATE["seed"], indices)
    return corruption, severity, start, out


def _tasks(pairs, count, chunk_size):
    def slowness(pair):
        return SLOW_FIRST.index(pair[0]) if pair[0] in SLOW_FIRST else len(SLOW_FIRST)

    ordered = sorted(pairs, key=slowness)
    return [(c, s, start, min(start + chunk_size, count)) for c, s in ordered for start in range(0, count, chunk_size)]


def open_pool(images, indices, seed, workers):
    """A pool whose workers hold the images (sent once each); spawned, never forked from TensorFlow."""
    context = multiprocessing.get_context("spawn")
    return context.Pool(workers, initializer=_init_worker, initargs=(images, indices, seed))


def warm_up():
    """Compile glass_blur's numba kernel now (seconds), so timings measure corruption work."""
    corruption_lib.corrupt_image(np.zeros((32, 32, 3), np.uint8), "glass_blur", 1)
    return True


def run_chunks(images, indices, pairs, seed, workers, chunk_size=64, on_pair=None, pool=None):
    """Corrupt `images` for every (corruption, severity) pair; call on_pair(c, s, array) as each finishes.

    workers <= 1 runs the plain loop in this process (the benchmark's baseline); `pool` (from
    open_pool, same images and seed) reuses warm workers.
    """
    count = len(images)
    tasks = _tasks(pairs, count, chunk_size)
    buffers, remaining = {}, {}
    for c, s in pairs:
        remaining[(c, s)] = len(range(0, count, chunk_size))

    def accept(result):
        c, s, start, out = result
        buffer = buffers.setdefault((c, s), np.empty_like(images))
        buffer[start : start + len(out)] = out
        remaining[(c, s)] -= 1
        if remaining[(c, s)] == 0:
            finished = buffers.pop((c, s))
            if on_pair is not None:
                on_pair(c, s, finished)

    if pool is not None:
        for result in pool.imap_unordered(_run_chunk, tasks):
            accept(result)
    elif workers <= 1:
        _init_worker(images, indices, seed)
        for task in tasks:
            accept(_run_chunk(task))
    else:
        with open_pool(images, indices, seed, workers) as own_pool:
            for result in own_pool.imap_unordered(_run_chunk, tasks):
                accept(result)


def _load_dataset(dataset, split, image_size, limit, seed, data_dir):
    if not isinstance(dataset, str):
        return dataset
    from vitlab import data as data_lib

    return data_lib.load(
        dataset, split=split, image_size=image_size, batch_size=256, limit=limit, seed=seed, data_dir=data_dir
    )


def prepare_corruptions(
    dataset="shapes",
    out="corruptions",
    split="test",
    limit=None,
    image_size=32,
    corruptions=corruption_lib.ALL,
    severities=corruption_lib.SEVERITIES,
    workers=2,
    seed=0,
    data_dir=None,
    chunk_size=64,
    log=print,
):
    """Write (or finish) a corruption set; returns its manifest. `dataset`: a name or a Dataset."""
    corruptions = corruption_lib.check_corruptions(corruptions)
    severities = corruption_lib.check_severities(severities)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    identity = {
        "dataset": dataset if isinstance(dataset, str) else dataset.name,
        "split": split,
        "limit": limit,
        "image_size": image_size,
        "seed": int(seed),
    }
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    if manifest is not None:
        for key, value in identity.items():
            if manifest.get(key) != value:
                raise CorruptionSetError(
                    f"{out}: holds a set made with {key}={manifest.get(key)!r}, not {value!r}; choose another --out"
                )
    if manifest is None or not (out / CLEAN).exists():
        data = _load_dataset(dataset, split, image_size, limit, seed, data_dir)
        clean = _collect(data)
        _atomic_savez(out / CLEAN, **clean)
        manifest = {
            "format": FORMAT,
            **identity,
            "num_images": int(len(clean["image"])),
            "image_shape": list(clean["image"].shape[1:]),
            "num_classes": int(data.num_classes),
            "class_names": list(map(str, data.class_names)),
            "pairs": {},
        }
        _atomic_json(manifest_path, manifest)
    else:
        with np.load(out / CLEAN) as stored:
            clean = {key: stored[key] for key in stored.files}
    height, width = clean["image"].shape[1:3]
    if corruption_lib.needs_upscale(height, width):
        manifest["note"] = (
            f"images are {height}x{width}: each was resized up to {corruption_lib.MIN_SIZE} pixels "
            f"a side for the corruption (imagecorruptions refuses smaller) and back down"
        )
        log(manifest["note"])
    todo = [
        (c, s)
        for c in corruptions
        for s in severities
        if pair_file(c, s) not in manifest["pairs"] or not (out / pair_file(c, s)).exists()
    ]
    skipped = len(corruptions) * len(severities) - len(todo)
    if skipped:
        log(f"{skipped} (corruption, severity) pairs already done in {out}")
    started = time.perf_counter()

    def save(c, s, images):
        _atomic_savez(out / pair_file(c, s), image=images)
        manifest["pairs"][pair_file(c, s)] = {"corruption": c, "severity": int(s)}
        _atomic_json(manifest_path, manifest)
        log(f"{c} severity {s}: done ({len(manifest['pairs'])} pairs on disk)")

    run_chunks(clean["image"], clean["index"], todo, seed, workers, chunk_size, on_pair=save)
    manifest["seconds_last_run"] = round(time.perf_counter() - started, 3)
    _atomic_json(manifest_path, manifest)
    return manifest
