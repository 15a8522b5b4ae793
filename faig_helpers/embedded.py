"""The embedded default: photographs from installed packages, the evaluation dataset roots and
the tiny trained model pairs in ``data/``.

Two pairs of the paper's families (SRResNet, SRCNN-style) learned blur and noise and are evaluated on
``data/datasets/embedded`` (N = 2); a third, Real-ESRGAN's SRVGGNetCompact (``compact``), learned blur, noise
and JPEG q 50 and has a root of its own, ``data/datasets/embedded_jpeg`` (the same held-out crops, N = 3), and
an experiment folder of intermediate checkpoints of its fine-tune, ``data/experiments/compact_x2_target``.

``python -m faig_helpers embed`` re-copies the photographs and rebuilds both dataset roots;
``python -m faig_helpers retrain`` retrains the model pairs (and the experiment folder); both are parsed
in :mod:`faig_helpers.cli`.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path


from .errors import ConfigError, ImageError
from .images import read_image, write_image
from .io_utils import atomic_write_text
from .layout import REPO
from .published import SOURCES_SECTION
from .train import PairRecipe, TrainConfig

__all__ = ["REPO", "DATA", "DATASET_ROOT", "DATASET_NAME", "JPEG_DATASET_ROOT", "JPEG_DATASET_NAME",
           "JPEG_DEGRADATIONS", "MODELS", "EXPERIMENTS", "PAIRS", "PAIR_DATASET_ROOTS", "pair_paths",
           "experiment_dir", "default_pairs", "make_embedded_data", "retrain"]

DATA = REPO / "data"
TRAIN_DIR = DATA / "images" / "train"
EVAL_HR_DIR = DATA / "images" / "eval"
DATASET_NAME = "embedded"
DATASET_ROOT = DATA / "datasets" / DATASET_NAME
MODELS = DATA / "models"
EXPERIMENTS = DATA / "experiments"
#: the root of the pair that learned JPEG too: the same held-out crops, with blur, noise and JPEG q 50
JPEG_DATASET_NAME = "embedded_jpeg"
JPEG_DATASET_ROOT = DATA / "datasets" / JPEG_DATASET_NAME
JPEG_DEGRADATIONS = ("blur", "noise", "jpeg")
COMPACT_EXPERIMENT = EXPERIMENTS / "compact_x2_target"

#: the embedded model pairs and their training recipes (see the README for what was tried)
PAIRS = {
    "srresnet": PairRecipe(dict(type="MSRResNet", num_feat=32, num_block=4, upscale=2),
                           TrainConfig(iters=4000, lr=2e-4, seed=0),
                           TrainConfig(iters=4000, lr=5e-4, mix={"blur": 0.5, "noise": 0.5}, seed=1)),
    "srcnn_style": PairRecipe(dict(type="SRCNNStyle", channels=(32, 32, 32, 32, 32, 32), upscale=2),
                              TrainConfig(iters=4000, lr=5e-4, seed=0),
                              TrainConfig(iters=4000, lr=1e-3, mix={"blur": 0.3333, "noise": 0.3333}, exclusive=True,
                                          seed=1), identity_init=True),
    "compact": PairRecipe(dict(type="SRVGGNetCompact", num_feat=32, num_conv=8, upscale=2, act_type="prelu"),
                          TrainConfig(iters=4000, lr=5e-4, seed=0),
                          TrainConfig(iters=8000, lr=2e-3, mix={"blur": 0.2, "noise": 0.2, "jpeg": 0.4},
                                      exclusive=True, seed=1, checkpoints_dir=str(COMPACT_EXPERIMENT),
                                      checkpoint_every=1000)),
}
#: the pairs evaluated on a root other than :data:`DATASET_ROOT`
PAIR_DATASET_ROOTS = {"compact": JPEG_DATASET_ROOT}


def pair_paths(net: str) -> tuple[Path, Path]:
    """(baseline, target) checkpoint paths of an embedded pair."""
    return MODELS / f"{net}_x2_baseline.pth", MODELS / f"{net}_x2_target.pth"


def experiment_dir(net: str) -> Path:
    """The BasicSR experiment folder of a pair's target fine-tune (intermediate checkpoints, options YAML)."""
    return EXPERIMENTS / f"{net}_x2_target"


def default_pairs() -> dict[str, dict]:
    """The embedded default as a notebook's ``pairs``: name → baseline, target and dataset root (the paper's
    two pairs on :data:`DATASET_ROOT`, the compact pair on :data:`JPEG_DATASET_ROOT`)."""
    return {net: dict(zip(("baseline", "target"), pair_paths(net)),
                      dataset_root=PAIR_DATASET_ROOTS.get(net, DATASET_ROOT)) for net in PAIRS}


def _sources() -> tuple[Path, Path]:
    import matplotlib
    import skimage

    return Path(skimage.__file__).parent / "data", Path(matplotlib.get_data_path()) / "sample_data"


# (package, file, licence / credit as stated by the package)
TRAIN_SOURCES = [
    ("scikit-image", "astronaut.png", "public domain (NASA)"),
    ("scikit-image", "motorcycle_left.png", "Middlebury stereo dataset, scikit-image sample data"),
    ("scikit-image", "hubble_deep_field.jpg", "public domain (NASA); top-left 384×384 crop"),
    ("scikit-image", "brick.png", "CC0 (CC0Textures)"),
    ("scikit-image", "grass.png", "CC0 (DeviantArt, linolafett)"),
    ("scikit-image", "gravel.png", "CC0 (CC0Textures)"),
    ("scikit-image", "coins.png", "public domain (Walters Art Museum)"),
    ("scikit-image", "moon.png", "public domain, scikit-image sample data"),
    ("scikit-image", "page.png", "public domain, scikit-image sample data"),
    ("scikit-image", "text.png", "public domain, scikit-image sample data"),
]
# (package, file, licence, crop top, crop left); every crop is 128×128 HR
EVAL_SOURCES = [
    ("scikit-image", "chelsea.png", "CC0 (Stefan van der Walt)", 40, 120),
    ("scikit-image", "coffee.png", "CC0 (Rachel Michetti)", 60, 180),
    ("scikit-image", "coffee.png", "CC0 (Rachel Michetti)", 250, 420),
    ("scikit-image", "rocket.jpg", "public domain (SpaceX)", 290, 250),
    ("scikit-image", "camera.png", "CC0 (Lav Varshney)", 60, 200),
    ("scikit-image", "ihc.png", "public domain (CMMI), scikit-image 'immunohistochemistry'", 200, 200),
    ("matplotlib", "grace_hopper.jpg", "public domain (US Navy), matplotlib sample data", 120, 150),
    ("matplotlib", "grace_hopper.jpg", "public domain (US Navy), matplotlib sample data", 20, 10),
]
EVAL_SIZE = 128
TRAIN_MAX = 512  # training images are cropped to at most this size (hubble: 384)


def make_embedded_data(seed: int = 0, data: str | os.PathLike | None = None) -> Path:
    """Copy the photographs into ``{data}/images`` and build ``{data}/datasets/embedded`` (blur, noise) and
    ``{data}/datasets/embedded_jpeg`` (blur, noise, JPEG q 50) from the held-out crops; ``data`` defaults to
    the repository's ``data/`` (another folder: to check that a rebuild is byte-identical). Returns the
    first root's path."""
    from .degradations import MANIFEST, build_dataset_root

    data = DATA if data is None else Path(data)
    train_dir, eval_dir = data / TRAIN_DIR.relative_to(DATA), data / EVAL_HR_DIR.relative_to(DATA)
    sk, mpl = _sources()
    src = {"scikit-image": sk, "matplotlib": mpl}
    train_dir.mkdir(parents=True, exist_ok=True)
    eval_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# Embedded images: sources and licences", "",
             "Copied by `python -m faig_helpers embed` from packages installed with this project.", "",
             "## Training (`images/train/`)", "", "| file | package | licence |", "|---|---|---|"]
    for pkg, name, lic in TRAIN_SOURCES:
        size = 384 if "hubble" in name else TRAIN_MAX
        img = read_image(src[pkg] / name)[:size, :size]
        write_image(train_dir / (Path(name).stem + ".png"), img)
        lines.append(f"| {Path(name).stem}.png | {pkg} `{name}` | {lic} |")
    lines += ["", f"## Held-out evaluation (`images/eval/`, {EVAL_SIZE}×{EVAL_SIZE} HR crops; "
              f"`datasets/{DATASET_NAME}/` is built from them)", "",
              "| file | package | crop (top, left) | licence |", "|---|---|---|---|"]
    for k, (pkg, name, lic, top, left) in enumerate(EVAL_SOURCES):
        img = read_image(src[pkg] / name)[top:top + EVAL_SIZE, left:left + EVAL_SIZE]
        if img.shape[:2] != (EVAL_SIZE, EVAL_SIZE):
            raise ImageError(f"{src[pkg] / name}: the crop at ({top}, {left}) is {img.shape[:2]}, expected "
                             f"{EVAL_SIZE}×{EVAL_SIZE}: the installed {pkg} ships another version of this image")
        out = f"{k:02d}_{Path(name).stem}.png"
        write_image(eval_dir / out, img)
        lines.append(f"| {out} | {pkg} `{name}` | ({top}, {left}) | {lic} |")
    lines += ["", "## Dataset roots (`datasets/`, ×2, built from `images/eval/`; no other source)", "",
              "| root | degradations | used by |", "|---|---|---|",
              f"| `datasets/{DATASET_NAME}/` | blur (σ 2), noise (σ 0.1) | "
              f"{', '.join(n for n in PAIRS if n not in PAIR_DATASET_ROOTS)} |",
              f"| `datasets/{JPEG_DATASET_NAME}/` | blur (σ 2), noise (σ 0.1), JPEG (q 50, OpenCV) | "
              f"{', '.join(n for n, r in PAIR_DATASET_ROOTS.items() if r == JPEG_DATASET_ROOT)} |"]
    lines += ["", SOURCES_SECTION]
    atomic_write_text(data / "SOURCES.md", "\n".join(lines) + "\n")
    roots = [(data / DATASET_ROOT.relative_to(DATA), None), (data / JPEG_DATASET_ROOT.relative_to(DATA),
                                                             list(JPEG_DEGRADATIONS))]
    for root, degs in roots:
        if root.exists():
            shutil.rmtree(root)
        build_dataset_root(eval_dir, root, scale=2, seed=seed, degradations=degs)
    # the paper's root stays in the original layout, as committed: no manifest (read as blur and noise)
    (roots[0][0] / MANIFEST).unlink()
    return roots[0][0]


def retrain(nets: Sequence[str] = tuple(PAIRS), phases: Sequence[str] = ("baseline", "target"),
            threads: int | None = None) -> None:
    """Retrain the embedded pairs: baseline on clean inputs, then target fine-tuned on the mix."""
    import dataclasses

    import torch

    from .archs import build_network
    from .checkpoint import load_state_dict
    from .train import make_pair, train

    for net in nets:
        recipe = PAIRS[net]
        recipe = dataclasses.replace(recipe, baseline=dataclasses.replace(recipe.baseline, threads=threads),
                                     target=dataclasses.replace(recipe.target, threads=threads))
        b_path, t_path = pair_paths(net)
        if set(phases) == {"baseline", "target"}:
            make_pair(recipe, TRAIN_DIR, b_path, t_path)
        elif "target" in phases:  # fine-tune again from the shipped baseline
            torch.manual_seed(recipe.target.seed)
            train(build_network(recipe.spec), TRAIN_DIR, t_path, recipe.target, init=load_state_dict(b_path))
        else:
            raise ConfigError("retraining the baseline alone would orphan the shipped target: retrain both")

