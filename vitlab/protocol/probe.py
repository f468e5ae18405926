"""The off-the-shelf feature protocol of the paper (Sec. 3.6, Fig. 14) as released.

Features (models/models.py lines 31-38, 53-58): every block's output passes the final
LayerNorm, the class token is taken, and the last four blocks' class tokens are
concatenated (--use_top_n_heads 4, scripts/classify_md.sh). ResNets give the pooled output
of the last stage (lines 77-80).

Probe (classify_metadataset.py lines 102-134; utils.py parse_train_arguments): a new linear
layer on the frozen backbone, cross-entropy, timm's create_optimizer with AdamW, lr 5e-4,
weight decay 0.05 (not on the bias: timm skips 1-d parameters), no schedule (the cosine
--sched is never built), batch 256 with drop_last, 10 epochs, and the best test top-1 over
the epochs is reported (line 129). Images are resized to 224 x 224 without a crop (line 14).
"""

PROBE_LEARNING_RATE = 5e-4  # utils.py line 350
PROBE_WEIGHT_DECAY = 0.05  # utils.py line 345
PROBE_BATCH_SIZE = 256  # scripts/classify_md.sh: --batch_size 256
PROBE_EPOCHS = 10  # scripts/classify_md.sh: --epochs 10
PROBE_ADAM_EPSILON = 1e-8  # utils.py line 337
PAPER_TOP_N_BLOCKS = 4  # scripts/classify_md.sh: --use_top_n_heads 4 ("ensemble transfer, best")
