"""Can an objects64 image survive a random PatchDrop? The measurement behind the default layout.

Criterion: drop a random 25% / 50% of the 64 8x8 patches (16 / 32 of them, the grid of
vit_nano_patch8_64); an image survives when at least one instance keeps >= 1/2 of its
visible pixels (also reported: >= 3/4). Measured on 2,000 default-variant test images per
layout (seed 0), 4 drops each:

    layout   keeps >= 1/2: 25% drop  50% drop   keeps >= 3/4: 25% drop  50% drop
    single                 1.000     0.495                    0.506     0.001
    multi                  1.000     0.951                    0.962     0.247

One large object keeps about 1 - rate of itself, so half a drop at 50% is a coin flip;
among 3-5 smaller instances one usually escapes, as some part of an ImageNet object
usually does. `multi` is therefore the default layout. The tests below re-measure on 300
images per layout with margins for the smaller sample.
"""

import numpy as np
import pytest

from vitlab.data import objects, objects_layout


@pytest.fixture(scope="module")
def instance_maps():
    return {
        layout: objects.generate(300, "default", "test", 64, seed=0, layout=layout).instances
        for layout in objects.LAYOUTS
    }


def test_survival_counts_kept_pixels_per_instance_by_hand():
    """16x16 image, 2x2 grid of 8x8 cells: instance 1 fills cell 0, instance 2 fills cells 2 and 3.
    Dropping 3 of 4 cells keeps one: cell 0 (instance 1 whole), cell 1 (nothing), cell 2 or 3
    (instance 2 half): >= 1/2 in 3 of 4 cases, >= 3/4 in 1 of 4. Dropping 2 of 4 (6 pairs):
    >= 1/2 always (instance 1 whole, or instance 2 at least half), >= 3/4 unless cell 0 and one of
    2, 3 go (2 pairs): 4 of 6."""
    image = np.zeros((16, 16), np.uint8)
    image[:8, :8] = 1
    image[8:, :] = 2
    maps = np.repeat(image[None], 400, axis=0)
    assert objects_layout.survival(maps, 0.0) == {0.5: 1.0, 0.75: 1.0}
    assert objects_layout.survival(maps, 1.0) == {0.5: 0.0, 0.75: 0.0}
    three = objects_layout.survival(maps, 0.75, trials=10, seed=1)  # 4,000 drops: sd < 0.008
    assert abs(three[0.5] - 3 / 4) < 0.025 and abs(three[0.75] - 1 / 4) < 0.025
    two = objects_layout.survival(maps, 0.5, trials=10, seed=1)
    assert two[0.5] == 1.0 and abs(two[0.75] - 4 / 6) < 0.03


def test_multi_survives_a_50_percent_drop_where_single_does_not(instance_maps):
    single = objects_layout.survival(instance_maps["single"], 0.5, trials=4)
    multi = objects_layout.survival(instance_maps["multi"], 0.5, trials=4)
    assert multi[0.5] > 0.9 and 0.4 < single[0.5] < 0.6
    assert multi[0.5] - single[0.5] > 0.3 and multi[0.75] > single[0.75] + 0.15


def test_both_layouts_survive_a_25_percent_drop_and_multi_keeps_more(instance_maps):
    single = objects_layout.survival(instance_maps["single"], 0.25, trials=4)
    multi = objects_layout.survival(instance_maps["multi"], 0.25, trials=4)
    assert single[0.5] > 0.98 and multi[0.5] > 0.98
    assert multi[0.75] > 0.92 and 0.4 < single[0.75] < 0.62


def test_multi_is_the_default_layout():
    assert objects.DEFAULT_LAYOUT == "multi"
