"""The compiled feature function: one forward pass -> the chosen (block, kind) vectors.

Compiled with tf.function on the TensorFlow backend so extraction runs at the speed of
the bare forward pass (benchmarks/bench_features.py), with jax.jit on JAX; other backends
run eagerly.
"""

import weakref

import keras
from keras import ops

_COMPILED = weakref.WeakKeyDictionary()  # model -> {(blocks, kinds, shape): function}: trace once per model


def feature_function(adapter, blocks, kinds, image_shape=None):
    """A function images -> {(block, kind): (B, D) tensor} for the given blocks and kinds.

    image_shape (H, W): fixes the compiled input signature, so the last, smaller batch
    does not trigger a second trace. Compiled functions are kept per model, so the train
    and test splits (and reruns in one process) share one trace.
    """
    blocks = list(blocks)
    kinds = list(kinds)
    memo = _COMPILED.setdefault(adapter.model, {})
    key = (tuple(blocks), tuple(kinds), None if image_shape is None else tuple(image_shape), adapter.token_norm)
    if key not in memo:
        memo[key] = _build(adapter, blocks, kinds, image_shape)
    return memo[key]


def _build(adapter, blocks, kinds, image_shape):
    prefix = adapter.num_prefix_tokens

    def features(images):
        out = adapter.forward(images, tokens=True)
        result = {}
        if adapter.kind == "cnn":
            for block in blocks:
                result[(block, "pooled")] = ops.mean(out["stages"][block], axis=(1, 2))
            return result
        for block in blocks:
            tokens = out["tokens"][block]
            for kind in kinds:
                if kind == "class":
                    result[(block, kind)] = tokens[:, 0]
                elif kind == "dist":
                    result[(block, kind)] = tokens[:, 1]
                elif kind == "patch_mean":
                    result[(block, kind)] = ops.mean(tokens[:, prefix:], axis=1)
        return result

    return compile_function(features, image_shape, jit_compile=uses_xla(adapter))


def uses_xla(adapter):
    """XLA for transformers: on 2 CPU cores extraction runs 1.32x (vit_nano) and 1.25x
    (deit_nano) the plain-graph forward pass it used to match (benchmarks/bench_features.py);
    ResNets stay in graph mode, as in training. VITLAB_XLA=0 turns it off (vitlab.compilation)."""
    from vitlab import compilation

    return adapter.is_transformer and compilation.xla_enabled()


def compile_function(function, image_shape=None, jit_compile=False):
    """tf.function on TensorFlow (batch dimension left open; XLA when asked, which compiles
    once per batch shape), jax.jit on JAX (once per batch shape); other backends run it as is."""
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        return function

    def flat(images):
        # compiled functions return string-keyed dicts: flatten tuple keys to "block/kind"
        return {f"{block}/{kind}": value for (block, kind), value in function(images).items()}

    if backend == "jax":
        import jax
        import numpy as np

        jitted = jax.jit(flat)

        def compiled(images):
            return jitted(np.asarray(images))  # tf.data batches arrive as TensorFlow tensors
    else:
        import tensorflow as tf

        if image_shape is None:
            compiled = tf.function(flat, reduce_retracing=True, jit_compile=jit_compile)
        else:
            signature = [tf.TensorSpec((None, *image_shape, 3), tf.float32)]
            compiled = tf.function(flat, input_signature=signature, jit_compile=jit_compile)

    def call(images):
        return {(int(key.split("/")[0]), key.split("/")[1]): value for key, value in compiled(images).items()}

    return call


def forward_function(adapter, jit_compile=None):
    """The bare compiled forward pass (logits only), compiled as extraction is unless told:
    the benchmark's baseline."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(lambda images: adapter.logits(images))
    if backend != "tensorflow":
        return lambda images: adapter.logits(images)
    import tensorflow as tf

    jit_compile = uses_xla(adapter) if jit_compile is None else jit_compile
    return tf.function(lambda images: adapter.logits(images), reduce_retracing=True, jit_compile=jit_compile)


class _Quiet:
    """Stands in for a Context when extraction runs outside an experiment."""

    def log(self, message):
        pass

    def progress(self, done, total, force=False, **metrics):
        pass


def extract(
    adapter,
    data,
    blocks="all",
    kinds=(),
    cache_dir=None,
    path=None,
    chunk_rows=1024,
    compression="lzf",
    context=None,
    on_chunk=None,
    resume_batch_size=64,
):
    """Features of `data` through `adapter`, from the cache when it has them, else extracted.

    path: an explicit file (the CLI's --out); otherwise a keyed file under cache_dir
    (default $VITLAB_CACHE/features or ~/.cache/vitlab/features). Returns a FeatureFile.
    on_chunk(rows_done) runs after each flushed chunk (tests simulate a kill with it).
    """
    from pathlib import Path

    from vitlab.features import blocks as blocks_lib
    from vitlab.features import cache

    context = context or _Quiet()
    block_list = blocks_lib.parse_blocks(blocks, adapter.num_blocks, adapter.name)
    kind_list = blocks_lib.choose_kinds(adapter, list(kinds or ()))
    if compression not in ("lzf", "gzip", "none"):
        raise cache.FeatureCacheError(f"compression: {compression!r} is not one of lzf, gzip, none")
    key = cache.CacheKey.for_data(adapter, data)
    explicit = path is not None
    path = Path(path) if explicit else Path(cache_dir or cache.default_cache_dir()) / key.file_name()
    with cache.locked(path, context.log):  # one writer per file; others wait, then hit the cache
        existing = cache.check_file(path, key, explicit) if path.exists() else None
        start = 0
        if existing is not None and existing.covers(block_list, kind_list):
            if existing.complete:
                context.log(
                    f"cache hit: {adapter.name} {data.name}/{data.split} features from {path} "
                    f"({existing.rows_done} rows)"
                )
                return existing
            if set(existing.blocks) == set(block_list) and set(existing.kinds) == set(kind_list):
                start = existing.rows_done
                block_list, kind_list = existing.blocks, existing.kinds
                context.log(f"cache resume: {path} has {start} rows; extracting the rest")
        elif existing is not None:
            block_list = sorted(set(block_list) | set(existing.blocks))
            kind_list = [k for k in blocks_lib.available_kinds(adapter) if k in set(kind_list) | set(existing.kinds)]
            context.log(
                f"cache miss: {path} lacks some blocks/kinds; extracting blocks {block_list}, kinds {kind_list}"
            )
        room = None if explicit else lambda: cache.check_size(path.parent)
        if start == 0:
            if room is not None:
                room()
            cache.new_file(path, key, block_list, kind_list, data.class_names)
            context.log(f"cache miss: extracting {adapter.name} {data.name}/{data.split} features to {path}")
        _write_features(
            adapter,
            data,
            path,
            block_list,
            kind_list,
            start,
            chunk_rows,
            None if compression == "none" else compression,
            context,
            on_chunk,
            resume_batch_size,
            room,
        )
        return cache.FeatureFile(path)


def _skip_rows(data, start, batch_size):
    from vitlab.data.dataset import finite_pass

    if start == 0:
        return finite_pass(data.pipeline)
    return finite_pass(data.pipeline.unbatch().skip(start).batch(batch_size))


def _write_features(
    adapter, data, path, blocks, kinds, start, chunk_rows, compression, context, on_chunk, resume_batch_size, room=None
):
    """Run the model batch by batch; a writer thread flushes each chunk while the next one is
    computed, so at most two chunks are in memory and HDF5 time hides behind the model."""
    from concurrent.futures import ThreadPoolExecutor

    import h5py
    import numpy as np

    from vitlab.features.blocks import dataset_name

    function = feature_function(adapter, blocks, kinds, (data.image_size, data.image_size))
    total = data.num_examples
    done = start

    def write(handle, columns):
        nonlocal done
        rows = len(columns["labels"])
        for name, values in columns.items():
            if name not in handle:
                handle.create_dataset(
                    name,
                    shape=(0,) + values.shape[1:],
                    maxshape=(None,) + values.shape[1:],
                    dtype=values.dtype,
                    chunks=(chunk_rows,) + values.shape[1:],
                    compression=compression,
                )
            dataset = handle[name]
            dataset.resize(done + rows, axis=0)
            dataset[done : done + rows] = values
        handle.flush()
        done += rows
        handle.attrs["rows_done"] = done  # only after the rows are on disk: a kill loses at most this chunk
        handle.flush()
        context.progress(done, total or done, extracted=done)
        if room is not None:
            room()  # over the cap: stop here; the rows so far stay and resume later
        if on_chunk is not None:
            on_chunk(done)

    with h5py.File(path, "a") as handle, ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        buffers, buffered = {}, 0

        def submit():
            nonlocal pending, buffers, buffered
            columns = {(b if k is None else dataset_name(b, k)): np.concatenate(v) for (b, k), v in buffers.items()}
            if pending is not None:
                pending.result()  # bounded memory, and a failed write stops the loop
            pending = writer.submit(write, handle, columns)
            buffers, buffered = {}, 0

        for batch in _skip_rows(data, start, resume_batch_size):
            outputs = function(batch["image"])
            for name, value in outputs.items():
                buffers.setdefault(name, []).append(np.asarray(value))
            buffers.setdefault(("labels", None), []).append(np.asarray(batch["label"], dtype="int32"))
            buffers.setdefault(("index", None), []).append(np.asarray(batch["index"], dtype="int64"))
            buffered += len(batch["label"])
            if buffered >= chunk_rows:
                submit()
        if buffered:
            submit()
        if pending is not None:
            pending.result()
        handle.attrs["complete"] = True
        handle.attrs["num_rows"] = done
        handle.flush()
    context.progress(done, done, force=True, extracted=done)
