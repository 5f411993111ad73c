#!/usr/bin/env python3
"""How fast the CLIP towers run on a GPU machine, for sizing workers (README "Growing").

The rest of `bench/` is TypeScript against ONNX Runtime for Node; this one runs where a GPU is and Node may not be
(a rented GPU box, or a machine with PyTorch and CUDA but no Node). With random weights (speed does not depend on them)
it measures, per model:

- the image tower in PyTorch on CUDA, fp32 and fp16, at several batch sizes: pictures per second;
- the text tower in PyTorch on CUDA at batch 1 (a search) p50 latency;
- the image tower exported exactly as scripts/export-model.py exports it (its own functions, loaded from it), run by
  ONNX Runtime's CPU provider with 2 threads and with every core: what a CPU worker of that size does per second.
  When that onnxruntime has the CUDA provider, the ONNX image tower on CUDA too.

    PYTHONPATH=../shared/fixtures/python python3 bench/towers-gpu.py --out towers.json [--models RN50,ViT-B-32]

Needs torch (with CUDA for the GPU figures; without it they are left out) and open_clip; onnx and onnxruntime for the
ONNX figures. Prints each figure as it is measured and writes them all as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(f"[towers] {msg}", flush=True)


def load_export_script():
    """scripts/export-model.py as a module: the ONNX export measured here is the one the product ships."""
    spec = importlib.util.spec_from_file_location("export_model", ROOT / "scripts" / "export-model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def figure(figures: list[dict], name: str, value: float, unit: str) -> None:
    """Adds a figure and prints it as it is measured."""
    figures.append({"name": name, "value": value, "unit": unit})
    log(f"{name}: {value:,.1f} {unit}")


def timed(fn, sync, seconds: float, min_runs: int = 3) -> list[float]:
    """Runs fn after two warm-ups until `seconds` have passed (at least min_runs times); the time of each run."""
    for _ in range(2):
        fn()
    sync()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - started < seconds:
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return times


def gpu_figures(torch, model, name: str, size: int, batches: list[int], seconds: float) -> list[dict]:
    figures = []
    dev = torch.device("cuda")
    model = model.to(dev)
    sync = torch.cuda.synchronize
    for dtype_name, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
        for batch in batches:
            images = torch.randn(batch, 3, size, size, device=dev)

            def run():
                with torch.inference_mode(), torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
                    model.encode_image(images)

            rate = batch / statistics.median(timed(run, sync, seconds))
            figure(figures, f"{name} image tower, PyTorch CUDA {dtype_name}, batch {batch}", rate, "img/s")
    tokens = torch.randint(1, 49000, (1, 77), device=dev)

    def text():
        with torch.inference_mode():
            model.encode_text(tokens)

    p50 = statistics.median(timed(text, sync, seconds, min_runs=20)) * 1000
    figure(figures, f"{name} text tower, PyTorch CUDA fp32, batch 1 p50", p50, "ms")
    model.to("cpu")
    return figures


def onnx_figures(torch, export, model, name: str, size: int, batch: int, seconds: float) -> list[dict]:
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as err:
        log(f"ONNX figures left out: {err}")
        return []
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "visual.onnx"
        started = time.perf_counter()
        export.onnx_export(torch, export.visual_wrapper(torch, model), torch.randn(1, 3, size, size), path, "image",
                           {0: "batch"})
        log(f"{name} image tower exported in {time.perf_counter() - started:.1f} s")
        images = np.random.default_rng(0).standard_normal((batch, 3, size, size), dtype=np.float32)
        cores = os.cpu_count() or 1
        runs = [("CPU", threads, ["CPUExecutionProvider"]) for threads in sorted({2, cores})]
        if "CUDAExecutionProvider" in ort.get_available_providers():
            runs.append(("CUDA", 0, ["CUDAExecutionProvider"]))
        for kind, threads, providers in runs:
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            session = ort.InferenceSession(str(path), options, providers=providers)
            rate = batch / statistics.median(timed(lambda: session.run(None, {"image": images}), lambda: None, seconds))
            label = f"{threads} threads" if threads else "GPU"
            figure(figures, f"{name} image tower, ONNX Runtime {ort.__version__} {kind} ({label}), batch {batch}", rate,
                   "img/s")
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="RN50,ViT-B-32", help="OpenCLIP model names (default RN50,ViT-B-32)")
    p.add_argument("--batches", default="32,128,256", help="GPU batch sizes (default 32,128,256)")
    p.add_argument("--onnx-batch", type=int, default=32, help="batch for the ONNX Runtime figures (default 32)")
    p.add_argument("--seconds", type=float, default=3.0, help="time spent on each figure (default 3)")
    p.add_argument("--no-onnx", action="store_true", help="leave out the ONNX export and ONNX Runtime figures")
    p.add_argument("--out", help="write the figures here as JSON")
    args = p.parse_args()

    import open_clip
    import torch

    export = load_export_script()
    export.disable_mha_fast_path(torch)
    cuda = torch.cuda.is_available()
    device_name = torch.cuda.get_device_name(0) if cuda else None
    log(f"torch {torch.__version__}, open_clip {open_clip.__version__}, {os.cpu_count()} cores, GPU: {device_name}")
    torch.backends.cudnn.benchmark = True
    figures: list[dict] = []
    for name in [m for m in args.models.split(",") if m]:
        torch.manual_seed(0)
        model = open_clip.create_model(name, pretrained=None).eval()
        size = model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        if cuda:
            figures += gpu_figures(torch, model, name, size, [int(b) for b in args.batches.split(",")], args.seconds)
        else:
            log("no CUDA device: GPU figures left out")
        if not args.no_onnx:
            try:
                figures += onnx_figures(torch, export, model, name, size, args.onnx_batch, args.seconds)
            except Exception as err:  # an exporter this torch lacks: keep the figures measured so far
                log(f"{name}: ONNX figures left out: {type(err).__name__}: {err}")
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "gpu": device_name},
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "open_clip": open_clip.__version__},
        "figures": figures,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        log(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
