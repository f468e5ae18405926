"""The sweeps' own implementations (vitlab/perturb, in-graph) agree with the paper's
definitions in vitlab/protocol, so a port of the sweep cannot drift from the official rule."""

import numpy as np

from vitlab.protocol import occlusion, saliency


def test_sweep_saliency_mask_equals_the_official_rule():
    from vitlab.perturb import saliency as sweep_saliency

    attention = np.random.default_rng(2).random((6, 64)).astype("float32")
    mass = np.asarray(sweep_saliency.cumulative_mass(attention))
    for lam in saliency.PAPER_LAMBDAS:
        assert np.array_equal(np.asarray(sweep_saliency.foreground(mass, lam)), saliency.salient_mask(attention, lam))


def test_sweep_drop_counts_equal_the_official_counts():
    from vitlab.perturb import patch_drop

    assert [patch_drop.drop_count(f, 196) for f in occlusion.PAPER_DROP_FRACTIONS] == occlusion.paper_drop_counts()
