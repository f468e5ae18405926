"""The per-backend compile helpers the sweeps share: a compiled loop stacks what each step returns."""

import numpy as np
from keras import ops

from vitlab.perturb import patch_drop, shuffle
from vitlab.perturb.compiled import compile_fn, stack_loop


def test_stack_loop_inside_a_compiled_function_stacks_every_step():
    table = np.array([1.0, 2.0, 5.0], np.float32)

    def run(x):
        def step(i):
            scale = ops.take(ops.convert_to_tensor(table), i)
            return x * scale, ops.sum(x) * scale > 10.0

        return stack_loop(3, step, ("float32", "bool"))

    for fn in (compile_fn(run), compile_fn(run, xla=True)):
        scaled, big = (ops.convert_to_numpy(t) for t in fn(np.arange(4, dtype=np.float32)))
        np.testing.assert_allclose(scaled, [[0, 1, 2, 3], [0, 2, 4, 6], [0, 5, 10, 15]])
        assert big.tolist() == [False, True, True]  # sums 6, 12, 30


def test_cells_to_pixels_and_shuffle_compile():
    cell_map = patch_drop.cell_index_map(4, 4, 2, 2, offset=(1, 1))
    expand = compile_fn(lambda values: patch_drop.cells_to_pixels(values, cell_map, -1.0))
    pixels = ops.convert_to_numpy(expand(np.array([[10.0, 11.0, 12.0, 13.0]], np.float32)))
    assert pixels[0].tolist() == [[-1, -1, -1, -1], [-1, 10, 10, 11], [-1, 10, 10, 11], [-1, 12, 12, 13]]
    images = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    perms = np.array([[3, 2, 1, 0], [0, 1, 2, 3]], np.int32)
    moved = ops.convert_to_numpy(compile_fn(lambda x, p: shuffle.shuffle_cells(x, 2, 2, p))(images, perms))
    np.testing.assert_array_equal(moved[1], images[1])
    np.testing.assert_array_equal(moved[0, :2, :2], images[0, 2:, 2:])  # cell 0 <- cell 3
    np.testing.assert_array_equal(moved[0, 2:, :2], images[0, :2, 2:])  # cell 2 <- cell 1
