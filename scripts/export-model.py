#!/usr/bin/env python3
"""Export an OpenCLIP model to the image-search model folder: visual.onnx, textual.onnx, the BPE vocabulary, model.json.

Run by the Docker `model` service (needs torch, open_clip_torch >= 2.23, onnx, and onnxruntime for its own check):

    python3 scripts/export-model.py --model RN50 --pretrained openai --out /models/RN50-openai
    python3 scripts/export-model.py --model ViT-B-32 --pretrained none --seed 7 --out /tmp/vit   # random weights

Both towers get a dynamic batch axis. The text tower also gets a dynamic token axis: it is wrapped so the positional
embedding and the causal mask are sliced to the input length L and the end token is picked by argmax, so callers can
cut padding after the end token (the transformer is causal, so the result does not change). The export never takes
nn.MultiheadAttention's fused fast path (the exporter cannot write it): the fast path is switched off where torch has
the switch (2.x) and the towers are traced with gradients enabled, which the fast path refuses (1.13 and 2.x).
Before anything is written, ONNX Runtime outputs are compared with PyTorch on sample inputs (full and trimmed text);
below cosine 0.9999 the script exits 1 and leaves no model.json (without Python onnxruntime this check is left to
`pnpm clip verify`). Beside the ONNX files go reference.json and reference/*.png: PyTorch's embeddings of fixed texts
and generated pictures, which `pnpm clip verify --model DIR` and the services' start-up run through the project's own
tokenizer, preprocessing and ONNX Runtime. model.json records the torch, open_clip and onnx versions that made it.
A folder that already holds a complete export of the same model is kept.

Exit codes: 0 exported or already there, 1 parity check failed, 2 bad arguments or an unsupported model.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

MIN_COSINE = 0.9999
OPSET = 17
MANIFEST = "model.json"
VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
REFERENCE_FILE = "reference.json"
REFERENCE_DIR = "reference"
FILES = {"visual": "visual.onnx", "textual": "textual.onnx", "vocab": VOCAB_FILE, "reference": REFERENCE_FILE}
# get_tokenizer returns a SimpleTokenizer object (context length, batch call) from 2.23 on; older versions return the
# bare `tokenize` function. 2.29.0 is the version proven by the export tests.
MIN_OPEN_CLIP = (2, 23, 0)
SAMPLE_TEXTS = [
    "a photo of a dog",
    "red car at night",
    "",
    "A busy street market in the evening, with stalls selling fruit, lanterns hanging overhead and people walking",
    " ".join(["a very long caption that goes on"] * 20),  # longer than the context: truncated, end token forced
]
# The reference texts: the samples plus what the TypeScript tokenizer must clean like ftfy and html.unescape do.
REFERENCE_TEXTS = SAMPLE_TEXTS + ["Crème brûlée &amp; café au lait", "東京の夜景, neon signs", "  TWO   spaces\tand a tab "]


def log(msg: str) -> None:
    print(f"[export-model] {msg}", flush=True)


def fail(code: int, msg: str) -> NoReturn:
    print(f"[export-model] error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=os.environ.get("MODEL") or "RN50", help="OpenCLIP model name (default RN50)")
    p.add_argument(
        "--pretrained",
        default=os.environ.get("PRETRAINED") or "openai",
        help="pretrained tag (default openai); 'none' for random weights from --seed (tests)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed for --pretrained none (default 0)")
    p.add_argument("--out", default=os.environ.get("MODEL_DIR") or None, help="output folder (default /models/MODEL-TAG)")
    p.add_argument("--cache-dir", default=os.environ.get("OPEN_CLIP_CACHE_DIR") or None, help="weights download cache")
    p.add_argument("--force", action="store_true", help="export again even when the folder is complete")
    args = p.parse_args()
    if not args.out:
        args.out = f"/models/{args.model}-{args.pretrained}"
    return args


def complete_export(out: Path, model: str, pretrained: str, seed: int | None = None) -> bool:
    try:
        m = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if m.get("name") != model or m.get("pretrained") != pretrained or m.get("seed") != seed:
        return False
    files = m.get("files", {})
    return set(files) == set(FILES) and all((out / f).is_file() for f in files.values())


def version_tuple(version: str) -> tuple:
    parts = []
    for piece in version.split("+")[0].split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit()) or "0"
        parts.append(int(digits))
    return tuple(parts)


def disable_mha_fast_path(torch) -> None:
    """The exporter cannot write aten::_native_multi_head_attention; torch >= 2.1 can switch the fast path off."""
    mha = getattr(torch.backends, "mha", None)
    if mha is not None and hasattr(mha, "set_fastpath_enabled"):
        mha.set_fastpath_enabled(False)


# ---------------------------------------------------------------------------------------------- model inspection


def preprocess_config(model, preprocess) -> dict:
    """image size, mean, std, interpolation and resize mode, from open_clip's own config or its eval transform."""
    visual = model.visual
    cfg = dict(getattr(visual, "preprocess_cfg", None) or {})
    size = cfg.get("size") or getattr(visual, "image_size", None)
    mean = cfg.get("mean") or getattr(visual, "image_mean", None)
    std = cfg.get("std") or getattr(visual, "image_std", None)
    interpolation = cfg.get("interpolation")
    resize_mode = cfg.get("resize_mode") or "shortest"
    # Whatever the config lacks, read from the transform actually used for evaluation.
    for t in getattr(preprocess, "transforms", []):
        name = type(t).__name__
        if name == "Normalize":
            mean = mean or tuple(float(x) for x in t.mean)
            std = std or tuple(float(x) for x in t.std)
        elif name == "Resize" and interpolation is None:
            interpolation = str(getattr(t.interpolation, "value", t.interpolation)).lower()
        elif name == "CenterCrop" and size is None:
            size = t.size
    if isinstance(size, (tuple, list)):
        if len(set(size)) != 1:
            fail(2, f"non-square image size {size} is not supported")
        size = size[0]
    if size is None or mean is None or std is None:
        fail(2, f"cannot find the preprocessing config (size={size}, mean={mean}, std={std})")
    interpolation = (interpolation or "bicubic").lower()
    if interpolation not in ("bicubic", "bilinear"):
        fail(2, f"interpolation {interpolation!r} is not supported (bicubic or bilinear)")
    if resize_mode != "shortest":
        fail(2, f"resize mode {resize_mode!r} is not supported by the TypeScript preprocessing (only 'shortest')")
    return {
        "imageSize": int(size),
        "mean": [float(x) for x in mean],
        "std": [float(x) for x in std],
        "interpolation": interpolation,
        "resizeMode": "shortest",
    }


def text_tower(model):
    """The module holding the CLIP text transformer parts: the model itself (CLIP) or model.text (CustomTextCLIP)."""
    for owner in (model, getattr(model, "text", None)):
        if owner is None:
            continue
        parts = ("token_embedding", "positional_embedding", "transformer", "ln_final", "attn_mask")
        if all(getattr(owner, p, None) is not None for p in parts) and getattr(owner, "cls_emb", None) is None:
            return owner
    return None


def make_text_wrappers(torch, model):
    """(dynamic-length wrapper or None, fixed-length wrapper). The dynamic one mirrors encode_text with slicing."""
    nn = torch.nn

    class FixedLength(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, text):
            return self.model.encode_text(text)

    tower = text_tower(model)
    pool = getattr(tower, "text_pool_type", getattr(tower, "pool_type", "argmax")) if tower is not None else None
    if tower is None or pool not in ("argmax", "eos"):
        return None, FixedLength()

    class DynamicLength(nn.Module):
        def __init__(self):
            super().__init__()
            self.tower = tower

        def forward(self, text):
            t = self.tower
            length = text.shape[1]
            cast = t.transformer.get_cast_dtype() if hasattr(t.transformer, "get_cast_dtype") else torch.float32
            x = t.token_embedding(text).to(cast)
            x = x + t.positional_embedding[:length].to(cast)
            mask = t.attn_mask[:length, :length]
            if hasattr(t.transformer, "batch_first"):
                # open_clip >= 2.24: the Transformer takes [N, L, D] and transposes inside when it needs to.
                x = t.transformer(x, attn_mask=mask)
            else:
                x = t.transformer(x.permute(1, 0, 2), attn_mask=mask).permute(1, 0, 2)
            if getattr(t, "ln_post_emb", None) is not None:
                x = t.ln_post_emb(x)
            x = t.ln_final(x)
            # The end token has the highest id in the CLIP vocabulary, so argmax finds it ('eos' pooling too).
            x = x[torch.arange(x.shape[0]), text.argmax(dim=-1)]
            proj = getattr(t, "text_projection", None)
            if proj is not None:
                x = proj(x) if isinstance(proj, nn.Module) else x @ proj
            return x

    return DynamicLength(), FixedLength()


# ---------------------------------------------------------------------------------------------- export and check


def onnx_export(torch, module, example, path: Path, input_name: str, dynamic: dict) -> None:
    kwargs = dict(
        input_names=[input_name],
        output_names=["embedding"],
        dynamic_axes={input_name: dynamic, "embedding": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
        export_params=True,
    )
    # The TorchScript exporter handles open_clip's modules; newer torch defaults to the dynamo one.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    # The exporter folds BatchNorm into the convolutions in place (torch 1.13): export a copy, so the model that
    # computes the reference embeddings stays the model that was exported.
    module = copy.deepcopy(module)
    # With gradients enabled and weights that require them, nn.MultiheadAttention never takes its fused fast path
    # (on torch 1.13 the only way to keep it off; 2.x is also switched off by disable_mha_fast_path).
    for p in module.parameters():
        p.requires_grad_(True)
    with torch.enable_grad():
        torch.onnx.export(module, (example,), str(path), **kwargs)


def visual_wrapper(torch, model):
    """encode_image as a module, without normalisation (the TypeScript side L2-normalises)."""

    class Visual(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, image):
            return self.model.encode_image(image)

    return Visual()


def cosines(np, a, b):
    a = a / np.linalg.norm(a, axis=-1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True).clip(1e-12)
    return (a * b).sum(-1)


def trim(tokens):
    """Cut a token batch after its longest sequence (end token included), as the TypeScript encoder does."""
    length = int(tokens.argmax(dim=-1).max().item()) + 1
    return tokens[:, :length]


def onnxruntime_check(np, ort, visual_path, textual_path, images, tokens, ref_image, ref_text, dynamic_length) -> float:
    """ONNX Runtime (Python) against PyTorch on the sample inputs, full and trimmed text; exits 1 below MIN_COSINE."""
    log("checking ONNX Runtime against PyTorch")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    visual = ort.InferenceSession(str(visual_path), opts, providers=["CPUExecutionProvider"])
    textual = ort.InferenceSession(str(textual_path), opts, providers=["CPUExecutionProvider"])
    checks = {
        "image batch of 3": cosines(np, visual.run(None, {"image": images.numpy()})[0], ref_image),
        "image batch of 1": cosines(np, visual.run(None, {"image": images[:1].numpy()})[0], ref_image[:1]),
        "text full length": cosines(np, textual.run(None, {"text": tokens.numpy()})[0], ref_text),
    }
    if dynamic_length:
        for i, text in enumerate(SAMPLE_TEXTS):
            row = trim(tokens[i : i + 1])
            checks[f"text trimmed to {row.shape[1]} ({text[:24]!r})"] = cosines(
                np, textual.run(None, {"text": row.numpy()})[0], ref_text[i : i + 1]
            )
        batch = trim(tokens[:4])
        checks[f"text batch trimmed to {batch.shape[1]}"] = cosines(
            np, textual.run(None, {"text": batch.numpy()})[0], ref_text[:4]
        )
    worst_name, worst = min(((k, float(v.min())) for k, v in checks.items()), key=lambda kv: kv[1])
    for name, v in checks.items():
        log(f"  cosine {float(v.min()):.7f}  {name}")
    if worst < MIN_COSINE:
        fail(1, f"parity check failed: {worst_name} has cosine {worst:.6f} < {MIN_COSINE}; nothing written")
    return worst


def reference_pictures(np):
    """Generated pictures (name → H×W×3 uint8): smooth and sharp content, larger and smaller than the model's input."""
    y, x = np.mgrid[0:240, 0:320].astype(np.float64)
    gradient = np.stack([x / 319 * 255, y / 239 * 255, np.full_like(x, 96)], -1)
    y, x = np.mgrid[0:300, 0:200].astype(np.float64)
    r = np.hypot(x - 90, y - 160)
    rings = np.stack([127 + 127 * np.sin(r / 6), 127 + 127 * np.cos(r / 11), 255 - r / 1.5], -1)
    y, x = np.mgrid[0:100, 0:150]
    blocks = np.stack([(x // 25 % 2) * 230 + 10, (y // 20 % 2) * 200 + 30, ((x + y) // 30 % 3) * 110], -1)
    noise = np.random.default_rng(7).integers(0, 256, size=(199, 257, 3))
    pictures = {"gradient": gradient, "rings": rings, "blocks": blocks, "noise": noise}
    return {name: np.clip(np.rint(a), 0, 255).astype(np.uint8) for name, a in pictures.items()}


def write_reference(np, torch, Image, model, preprocess, tokenizer, folder: Path, producer: str) -> None:
    """reference.json and reference/*.png: PyTorch's embeddings (L2-normalised) of fixed texts and generated pictures."""
    (folder / REFERENCE_DIR).mkdir()
    files = []
    for name, pixels in reference_pictures(np).items():
        files.append(f"{REFERENCE_DIR}/{name}.png")
        Image.fromarray(pixels, "RGB").save(folder / files[-1])
    with torch.no_grad():
        images = torch.stack([preprocess(Image.open(folder / f)) for f in files])
        image_vectors = model.encode_image(images).numpy()
        text_vectors = model.encode_text(tokenizer(REFERENCE_TEXTS)).numpy()

    def unit(v):
        return [round(float(x), 8) for x in v / max(float(np.linalg.norm(v)), 1e-12)]

    reference = {
        "producer": producer,
        "texts": [{"text": t, "embedding": unit(v)} for t, v in zip(REFERENCE_TEXTS, text_vectors)],
        "images": [{"file": f, "embedding": unit(v)} for f, v in zip(files, image_vectors)],
    }
    (folder / REFERENCE_FILE).write_text(json.dumps(reference) + "\n")


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    random_weights = args.pretrained == "none"
    seed = args.seed if random_weights else None
    if not args.force and complete_export(out, args.model, args.pretrained, seed):
        log(f"{out} already holds {args.model}/{args.pretrained}; nothing to do (--force to export again)")
        return

    try:
        import numpy as np
        import onnx
        import open_clip
        import torch
        from PIL import Image
    except ImportError as err:
        fail(2, f"{err}; install torch, open_clip_torch, onnx and onnxruntime")
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
        log("warning: Python onnxruntime is not installed; check the export with `pnpm clip verify --model OUT`")

    open_clip_version = getattr(open_clip, "__version__", "0")
    if version_tuple(open_clip_version) < MIN_OPEN_CLIP:
        minimum = ".".join(map(str, MIN_OPEN_CLIP))
        fail(2, f"open_clip {open_clip_version} is older than {minimum}; pip install 'open_clip_torch>={minimum}'")
    disable_mha_fast_path(torch)
    torch.manual_seed(args.seed)
    started = time.time()
    log(f"loading {args.model} / {args.pretrained}" + (f" (random weights, seed {args.seed})" if random_weights else ""))
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            args.model, pretrained=None if random_weights else args.pretrained, cache_dir=args.cache_dir
        )
    except Exception as err:  # unknown name or tag, download failure: say which and stop
        fail(2, f"cannot load {args.model}/{args.pretrained}: {err}")
    model = model.float().eval()
    tokenizer = open_clip.get_tokenizer(args.model)
    if not isinstance(tokenizer, open_clip.tokenizer.SimpleTokenizer):
        fail(2, f"{args.model} uses {type(tokenizer).__name__}; only models with the CLIP BPE tokenizer are supported")
    context_length = int(getattr(tokenizer, "context_length", None) or getattr(model, "context_length", 77))
    pre = preprocess_config(model, preprocess)
    size = pre["imageSize"]

    with torch.no_grad():
        images = torch.randn(3, 3, size, size)
        tokens = tokenizer(SAMPLE_TEXTS)
        ref_image = model.encode_image(images).numpy()
        ref_text = model.encode_text(tokens).numpy()
        embed_dim = int(ref_image.shape[-1])

        dynamic, fixed = make_text_wrappers(torch, model)
        if dynamic is not None:
            # The wrapper re-implements encode_text; use it only if PyTorch agrees with itself, full and trimmed.
            worst = min(
                cosines(np, dynamic(tokens).numpy(), ref_text).min(),
                cosines(np, dynamic(trim(tokens[:2])).numpy(), ref_text[:2]).min(),
            )
            if worst < MIN_COSINE:
                log(f"length-sliced text wrapper disagrees with encode_text (cosine {worst:.6f}); exporting at {context_length}")
                dynamic = None
    dynamic_length = dynamic is not None

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as tmp:
        tmp = Path(tmp)
        visual_path, textual_path = tmp / FILES["visual"], tmp / FILES["textual"]
        log("exporting the image tower")
        onnx_export(torch, visual_wrapper(torch, model), images[:2], visual_path, "image", {0: "batch"})
        log(f"exporting the text tower ({'dynamic' if dynamic_length else 'fixed'} length)")
        text_axes = {0: "batch", 1: "tokens"} if dynamic_length else {0: "batch"}
        onnx_export(torch, dynamic if dynamic_length else fixed, tokens[:2], textual_path, "text", text_axes)
        for path in (visual_path, textual_path):
            onnx.checker.check_model(str(path))

        if ort is None:
            worst = None
        else:
            worst = onnxruntime_check(np, ort, visual_path, textual_path, images, tokens, ref_image, ref_text, dynamic_length)

        log("writing the reference embeddings (PyTorch)")
        producer = f"PyTorch {torch.__version__}, open_clip {open_clip_version}"
        write_reference(np, torch, Image, model, preprocess, tokenizer, tmp, producer)
        shutil.copyfile(open_clip.tokenizer.default_bpe(), tmp / VOCAB_FILE)
        manifest = {
            "name": args.model,
            "pretrained": args.pretrained,
            "embedDim": embed_dim,
            **pre,
            "contextLength": context_length,
            "dynamicTextLength": dynamic_length,
            "files": FILES,
            "synthetic": False,
            "exportedWith": {
                "torch": torch.__version__,
                "openClip": open_clip_version,
                "onnx": onnx.__version__,
                "python": platform.python_version(),
            },
            "parityMinCosine": worst,
        }
        if random_weights:
            manifest["seed"] = args.seed
        # Move the files in, model.json last: a folder with a manifest is a complete folder.
        (out / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(out / REFERENCE_DIR, ignore_errors=True)
        for f in [*FILES.values(), REFERENCE_DIR]:
            os.replace(tmp / f, out / f)
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"wrote {out} ({args.model}/{args.pretrained}, D={embed_dim}, {size}px) in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
