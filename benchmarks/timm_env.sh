#!/usr/bin/env bash
# Creates benchmarks/.venv-timm: PyTorch (CPU) + timm, the reference that `make parity`
# and `make bench` compare vitlab against. Never a dependency of vitlab itself.
#
# torch is pinned to a CPU build (an unpinned torch resolves to a multi-GB CUDA build).
# timm imports torchvision, whose PyPI wheel is compiled against CUDA torch; its compiled
# ops (nms, roi_align: detection only) cannot load beside CPU torch, so they are removed
# and their fake-kernel registrations made conditional. timm's classification models
# (vision_transformer, deit, resnet) use none of them.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${TIMM_VENV:-$HERE/.venv-timm}"
PY="${PY:-python3.11}"
STAMP="$VENV/.installed"
[ -f "$STAMP" ] && exit 0
echo "creating $VENV (torch CPU + timm; a few minutes, once)" >&2
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
"${PIP[@]}" "torch==${TORCH_VERSION:-2.13.0}"
"${PIP[@]}" --no-deps timm "torchvision==${TORCHVISION_VERSION:-0.28.0}"
"${PIP[@]}" pyyaml huggingface_hub safetensors numpy pillow
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
rm -f "$SITE"/torchvision/_C.so "$SITE"/torchvision/image.so
sed -i 's/^@torch\.library\.register_fake(/@(lambda name: torch.library.register_fake(name) if torchvision.extension._has_ops() else (lambda fn: fn))(/' \
  "$SITE/torchvision/_meta_registrations.py"
"$VENV/bin/python" -c "import timm, torch; timm.create_model('deit_tiny_patch16_224'); print('timm', timm.__version__, 'torch', torch.__version__)" >&2
touch "$STAMP"
