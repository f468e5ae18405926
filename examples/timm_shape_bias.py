"""Import timm weights from the local Hugging Face cache and measure shape bias (Geirhos et al. 2019).

    python examples/timm_shape_bias.py --cue-conflict model-vs-human/datasets/cue-conflict
    python examples/timm_shape_bias.py --name timm/deit_small_distilled_patch16_224.fb_in1k --cue-conflict DIR

The weights must already be in the cache (`timm.create_model(NAME, pretrained=True)` or
`huggingface-cli download NAME` once, where there is a network); nothing is downloaded here.
The cue-conflict folder is Geirhos's: <shape>/<shape><n>-<texture><m>.png, 16 categories.
"""

import argparse

import vitlab


def main(argv=None):
    parser = argparse.ArgumentParser(description="Shape bias of a timm checkpoint, per head.")
    parser.add_argument("--name", default="timm/deit_small_patch16_224.fb_in1k", help="timm / Hugging Face name")
    parser.add_argument("--cue-conflict", required=True, help="Geirhos's cue-conflict folder")
    parser.add_argument(
        "--cache-dir", help="Hugging Face hub cache (default: $HF_HUB_CACHE or ~/.cache/huggingface/hub)"
    )
    parser.add_argument("--limit", type=int, default=None, help="use at most this many images")
    args = parser.parse_args(argv)

    model = vitlab.create_model(args.name, pretrained=True, cache_dir=args.cache_dir)
    result = vitlab.evaluate("shape-bias", models=[model], dataset=args.cue_conflict, limit=args.limit)
    frame = result.to_frame()
    summary = frame[frame.curve == "summary"][["model", "head", "metric", "value"]]
    print(summary.to_string(index=False, float_format="%.3f"))
    return summary


if __name__ == "__main__":
    main()
