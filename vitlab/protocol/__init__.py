"""The paper's protocol in one place: the constants of "Intriguing Properties of Vision
Transformers" (Naseer et al. 2021) and the pure functions that define its measurements,
each citing the line of the official code it follows (docs/protocol.md is the index).

Modules: crop (evaluation resize + centre crop), saliency (the DINO mask), corruption
(AlexNet's ImageNet-C errors, the mCE baseline rule), segmentation (per-object Jaccard),
lesion (token / feature drop inside the network), occlusion (PatchDrop grid and offset),
probe (the off-the-shelf linear probe's settings). NumPy only, except lesion (keras.ops).
"""

OFFICIAL_REPO = "Muzammal-Naseer/Intriguing-Properties-of-Vision-Transformers"
