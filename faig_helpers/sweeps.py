"""Checkpoint sweeps: rank the filters of every checkpoint θ_t of a fine-tuning run against the baseline θ̄.

For each checkpoint t (in training order) the attribution of θ̄ → θ_t is computed as for one pair, so the
sets a method discovers can be followed as they emerge during fine-tuning. Below the output folder OUT:

    OUT/{checkpoint stem}/{D}_index.txt     one ranking per degradation D (+ scores, per-image scores and
                                            meta.json, as :func:`~faig_helpers.rankings.save_rankings`)
    OUT/{checkpoint stem}/{method}/…        the same per method, when several methods are swept
    OUT/sweep.json                          the checkpoints (path, iteration) and their folders, in order
    OUT/cache/                              per-image partial results of a checkpoint being ranked

A checkpoint whose folder holds the ``meta.json`` of the same baseline, checkpoint, images and settings is
skipped; an interrupted one resumes from the per-image cache (with any engine: see
:mod:`~faig_helpers.engines`).

Checkpoints come from a BasicSR experiment (``experiments/NAME/`` or its ``models/`` folder:
``net_g_{iter}.pth`` by iteration, then ``net_g_latest.pth`` unless it is a copy of the last one), a glob,
or a list of files.
"""
from __future__ import annotations

import glob as globlib
import json
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .archs import ARCH_REGISTRY
from .checkpoint import check_pair, experiment_network, load_model, load_state_dict
from .degradations import DatasetRoot, degradation_set, load_dataset
from .engines import Engine, open_engine
from .errors import CheckpointError, ConfigError
from .io_utils import atomic_write_text, tensor_digest
from .params import Params
from .methods import DEFAULT_PRECISION, DEFAULT_QUADRATURE, DEFAULT_STEPS, METHODS, FilterScores, resolve_methods
from .rankings import INCOMPLETE, images_digest, models_digest, ranking_meta, reuse_ranking, save_rankings

__all__ = ["Checkpoint", "find_checkpoints", "checkpoints_arch", "CheckpointSweep", "rank_checkpoints",
           "sweep_folder", "embedded_sweep", "setup_sweep", "SWEEP_FILE"]

#: the summary of a sweep, written into its output folder
SWEEP_FILE = "sweep.json"
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a sweep: its file and training iteration (None when its name carries none)."""

    path: Path
    iteration: int | None = None

    @property
    def stem(self) -> str:
        """The name of its output folder."""
        return self.path.stem


def _iteration(path: Path) -> int | None:
    """``net_g_{iter}`` → iter; else the number a name ends with (``ckpt_0500`` → 500); else None."""
    m = re.fullmatch(r"net_g_(\d+)", path.stem) or re.search(r"(\d+)$", path.stem)
    return int(m.group(1)) if m else None


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _order(paths: Sequence[Path]) -> list[Checkpoint]:
    cps = [Checkpoint(p, _iteration(p)) for p in paths]
    return sorted(cps, key=lambda c: (c.iteration is None, c.iteration or 0, _natural(c.path.name)))


def _same_weights(a: Path, b: Path) -> bool:
    sa, sb = load_state_dict(a), load_state_dict(b)
    return list(sa) == list(sb) and tensor_digest(*sa.values()) == tensor_digest(*sb.values())


def find_checkpoints(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Checkpoint]:
    """The checkpoints of a sweep, in training order.

    * a folder — a BasicSR experiment (``models/`` inside) or its ``models/`` folder: ``net_g_{iter}.pth`` by
      iteration, then ``net_g_latest.pth`` unless it holds the same weights as the last numbered one;
    * a glob (``runs/*/net_g_*.pth``) or one file: the matching checkpoint files, by the iteration their
      names end with (then by name);
    * a list of files (or of :class:`Checkpoint`): in the order given.
    """
    if isinstance(source, (list, tuple)):
        found = [c if isinstance(c, Checkpoint) else Checkpoint(Path(c), _iteration(Path(c))) for c in source]
        missing = [c.path for c in found if not c.path.is_file()]
        if missing:
            raise CheckpointError(f"{missing[0]}: no such checkpoint file")
    elif Path(source).is_dir():
        folder = Path(source)
        models = folder / "models" if (folder / "models").is_dir() else folder
        numbered = _order([p for p in models.glob("net_g_*.pth") if re.fullmatch(r"net_g_\d+\.pth", p.name)])
        latest = models / "net_g_latest.pth"
        found = numbered
        if latest.is_file() and not (numbered and _same_weights(latest, numbered[-1].path)):
            found = numbered + [Checkpoint(latest, None)]
        if not found:
            raise CheckpointError(f"{folder}: no models/net_g_{{iter}}.pth or models/net_g_latest.pth: not a BasicSR "
                                  "experiment folder (pass a glob such as 'DIR/*.pth' for other names)")
    else:
        pattern = str(source)
        paths = [Path(p) for p in globlib.glob(pattern, recursive=True)]
        paths = [p for p in paths if p.is_file() and p.suffix.lower() in CHECKPOINT_SUFFIXES]
        if not paths:
            raise CheckpointError(f"{pattern}: no checkpoint files ({', '.join(CHECKPOINT_SUFFIXES)}) match")
        found = _order(paths)
    stems: dict[str, Path] = {}
    for c in found:
        if c.stem in stems:
            raise CheckpointError(f"{c.path} and {stems[c.stem]} have the same name '{c.stem}': each checkpoint "
                                  "of a sweep gets the output folder of its name")
        stems[c.stem] = c.path
    return found


def checkpoints_arch(source: str | os.PathLike | Sequence) -> dict | None:
    """The architecture of a BasicSR experiment's options YAML (``network_g``, when it names a built-in
    network), for a folder source; None otherwise (the architecture is inferred from the weights)."""
    if isinstance(source, (list, tuple)) or not Path(source).is_dir():
        return None
    folder = Path(source)
    folder = folder.parent if folder.name == "models" and not (folder / "models").is_dir() else folder
    net = experiment_network(folder)
    return net if net is not None and net["type"] in ARCH_REGISTRY else None


@dataclass
class CheckpointSweep:
    """The rankings of a sweep: ``scores[stem][method]`` for each checkpoint (training order) and method."""

    checkpoints: list[Checkpoint]
    methods: list[str]
    out: Path
    scores: dict[str, dict[str, FilterScores]] = field(default_factory=dict)
    info: dict[str, dict] = field(default_factory=dict)  # stem → seconds, reused (per method)
    arch: Mapping | str | None = None  # how the checkpoints are built (None: inferred from the weights)
    param_key: str | None = None

    def __len__(self) -> int:
        return len(self.checkpoints)

    @property
    def stems(self) -> list[str]:
        return [c.stem for c in self.checkpoints]

    @property
    def iterations(self) -> list[int | None]:
        return [c.iteration for c in self.checkpoints]

    @property
    def final(self) -> Checkpoint:
        """The last checkpoint (the end of fine-tuning)."""
        return self.checkpoints[-1]

    def axis(self) -> tuple[list[int], str]:
        """x values and label for plots against training: the iterations when every checkpoint has one,
        else the checkpoints' positions 1..n."""
        its = self.iterations
        if all(i is not None for i in its):
            return [int(i) for i in its], "fine-tuning iteration"
        return list(range(1, len(its) + 1)), "checkpoint (training order)"

    def load(self, stem: str) -> nn.Module:
        """The network of one checkpoint (eval mode)."""
        c = next((c for c in self.checkpoints if c.stem == stem), None)
        if c is None:
            raise ConfigError(f"no checkpoint '{stem}' in this sweep: it has {self.stems}")
        return load_model(c.path, arch=self.arch, param_key=self.param_key)

    def folder(self, stem: str, method: str | None = None) -> Path:
        """Where a checkpoint's rankings are: ``out/stem`` for a one-method sweep, else ``out/stem/method``."""
        return sweep_folder(self.out, stem, method or self.methods[0], self.methods)

    def of(self, method: str = "faig") -> list[FilterScores]:
        """One method's scores for every checkpoint, in training order."""
        if method not in self.methods:
            raise ConfigError(f"this sweep ranked {self.methods}, not '{method}'")
        return [self.scores[s][method] for s in self.stems]

    def table(self) -> pd.DataFrame:
        """One row per checkpoint: stem, iteration, path, seconds spent, whether every method was reused."""
        return pd.DataFrame([dict(checkpoint=c.stem, iteration=c.iteration, path=str(c.path),
                                  seconds=self.info.get(c.stem, {}).get("seconds", 0.0),
                                  reused=all(self.info.get(c.stem, {}).get("reused", {}).values()))
                             for c in self.checkpoints])


def sweep_folder(out: str | os.PathLike, stem: str, method: str, methods: Sequence[str]) -> Path:
    """``out/stem`` (one method: the layout of ``rank --out``) or ``out/stem/method`` (several)."""
    return Path(out) / stem if len(methods) == 1 else Path(out) / stem / method


def _complete(folder: Path, degradations: Sequence[str]) -> Path | None:
    ok = all((folder / f"{d}_index.txt").is_file() for d in degradations) and not (folder / INCOMPLETE).exists()
    return folder if ok else None


def rank_checkpoints(baseline: str | os.PathLike | nn.Module, checkpoints: str | os.PathLike | Sequence,
                     data: DatasetRoot | str | os.PathLike | None, out: str | os.PathLike,
                     methods: Sequence[str] = ("faig",), *, engine: Engine | str | None = None,
                     n_steps: int | None = None, quadrature: str | None = None,
                     device: str | torch.device | None = None, seed: int = 0,
                     degradations: Sequence[str] | None = None, arch: Mapping | str | None = None,
                     param_key: str | None = None, cache_dir: str | os.PathLike | None = None, reuse: bool = True,
                     keep_cache: bool = False, progress: bool = True, precision: str = DEFAULT_PRECISION
                     ) -> CheckpointSweep:
    """Rank θ̄ → θ_t with each of ``methods`` for every checkpoint θ_t of ``checkpoints``
    (:func:`find_checkpoints`), writing ``out/{stem}/{D}_index.txt`` (one method) or
    ``out/{stem}/{method}/{D}_index.txt``.

    ``baseline``: θ̄ (checkpoint, experiment folder or module); ``data``: a loaded dataset root or its path
    (``degradations``: the set, None = the root's own); ``engine``: where the images run (an engine,
    ``'local'`` or ``'ray'``; one engine serves the whole sweep); ``arch``: the architecture (None: the
    experiment's options YAML, else inferred from the weights). With ``reuse``, completed checkpoints are
    loaded, not recomputed, and per-image results go to ``cache_dir`` (None: ``out/cache``) until a
    checkpoint's ranking is saved (then removed, unless ``keep_cache``); ``precision``: of the network passes.
    """
    names = resolve_methods(methods)
    n_steps = DEFAULT_STEPS if n_steps is None else n_steps
    quadrature = DEFAULT_QUADRATURE if quadrature is None else quadrature
    cps = find_checkpoints(checkpoints)
    arch = checkpoints_arch(checkpoints) if arch is None else arch
    out = Path(out)
    if isinstance(data, (str, os.PathLike)):
        data = load_dataset(data, degradations)
    degs = degradation_set(data.degradations if data is not None and degradations is None else degradations)
    images = None
    if data is not None:
        data = data.select(degs)
        images = images_digest(data)
    cache = (Path(cache_dir) if cache_dir is not None else out / "cache") if reuse else None
    mb = load_model(baseline, arch=arch, param_key=param_key) if not isinstance(baseline, nn.Module) else baseline
    base_name = "baseline" if isinstance(baseline, nn.Module) else str(baseline)
    sweep = CheckpointSweep(cps, names, out, arch=arch, param_key=param_key)
    bar = tqdm(cps, desc="checkpoints", unit="ckpt", disable=not progress)
    with open_engine(engine) as eng:
        for c in bar:
            bar.set_postfix_str(c.stem)
            t0 = time.perf_counter()
            mt = load_model(c.path, arch=arch, param_key=param_key)
            check_pair(mb.state_dict(), mt.state_dict(), (base_name, str(c.path)))
            models = models_digest(mb, mt)
            sweep.scores[c.stem], reused = {}, {}
            for name in names:
                method = METHODS[name](mb, mt, device=device, seed=seed, precision=precision)
                meta = dict(ranking_meta(method, n_steps, quadrature, degs, models, data, images),
                            checkpoint=c.stem, iteration=c.iteration)
                folder = sweep_folder(out, c.stem, name, names)
                got = reuse_ranking(_complete(folder, degs), name, meta, len(method), degs, unkeyed=False) \
                    if reuse else None
                reused[name] = got is not None
                if got is None:
                    got = method.attribute(data, n_steps=n_steps, quadrature=quadrature, progress=progress,
                                           cache_dir=cache, engine=eng, degradations=degs)
                    save_rankings(folder, got, meta)
                    if cache is not None and not keep_cache and method.uses_images():
                        shutil.rmtree(cache / method.cache_key(n_steps, quadrature, degs), ignore_errors=True)
                got.info["folder"] = str(folder)
                sweep.scores[c.stem][name] = got
            sweep.info[c.stem] = dict(seconds=time.perf_counter() - t0, reused=reused)
    bar.close()
    if cache is not None and cache.is_dir() and not keep_cache and not any(cache.iterdir()):
        cache.rmdir()
    atomic_write_text(out / SWEEP_FILE, json.dumps(dict(
        methods=names, degradations=degs, baseline=None if isinstance(baseline, nn.Module) else base_name,
        checkpoints=[dict(stem=c.stem, iteration=c.iteration, path=str(c.path),
                          folders={m: str(sweep.folder(c.stem, m)) for m in names}) for c in cps]), indent=1) + "\n")
    return sweep


def embedded_sweep(check: bool = True) -> dict:
    """The embedded sweep (notebook 06's default): SRVGGNetCompact ×2 fine-tuned on blur, noise and JPEG —
    ``net``, ``baseline`` (``data/models/compact_x2_baseline.pth``), ``checkpoints``
    (``data/experiments/compact_x2_target/``: ``models/net_g_{iter}.pth`` and ``options.yml``) and
    ``dataset_root`` (``data/datasets/embedded_jpeg/``). ``check``: raise if a path is missing."""
    from .layout import REPO

    data = REPO / "data"
    sweep = dict(net="compact", baseline=data / "models" / "compact_x2_baseline.pth",
                 checkpoints=data / "experiments" / "compact_x2_target",
                 dataset_root=data / "datasets" / "embedded_jpeg")
    if check:
        missing = [str(p.relative_to(REPO)) for k, p in sweep.items() if k != "net" and not p.exists()]
        if missing:
            raise CheckpointError(f"the embedded sweep is not in this checkout (missing {', '.join(missing)}): pass "
                                  "baseline=, checkpoints= and dataset_root= for your own fine-tuning run")
    return sweep


def setup_sweep(pairs: Mapping | Params | None = None, net: str | None = None,
                dataset_root: str | os.PathLike | None = None,
                dataset_name: str | None = None, degradations: Sequence[str] | None = None,
                results_dir: str | os.PathLike | None = None, figures_dir: str | os.PathLike | None = None,
                device: str | torch.device | None = None, methods: Sequence[str] | None = None,
                n_steps: int | None = None, quadrature: str | None = None, *,
                baseline: str | os.PathLike | None = None, checkpoints: str | os.PathLike | Sequence | None = None,
                engine: Engine | str | None = None, max_images: int | None = None, crop: int | None = None,
                progress: bool = False):
    """Notebook 06's set-up: the common parameters (as :func:`~faig_helpers.lab.setup`, a
    :class:`~faig_helpers.params.Params` too) plus the sweep's own;
    returns ``(lab, sweep)``: a :class:`~faig_helpers.lab.Lab` with the one pair θ̄ → final checkpoint (its
    data, device, filter index, output folders) and the :class:`CheckpointSweep` of every checkpoint, ranked
    with ``methods`` (None: FAIG only) into ``{results}/sweeps/{net}/{dataset}/``.

    The sweep is ``baseline`` → ``checkpoints`` (:func:`find_checkpoints`); either one None: taken from the
    pair ``net`` of ``pairs`` (its target being the run: an experiment folder or a glob); all three None: the
    embedded sweep (:func:`embedded_sweep`). ``max_images``: the first images of the dataset only; ``crop``:
    the rankings are computed on LR centre crops of this size (``lab.pair.data`` keeps whole images).
    """
    from .lab import setup

    given = Params.of_call(pairs, locals())
    pairs, net = given.pairs, given.net
    if pairs is None and baseline is None and checkpoints is None:
        emb = embedded_sweep()
        pairs = {emb["net"]: dict(baseline=emb["baseline"], target=emb["checkpoints"],
                                  dataset_root=emb["dataset_root"])}
    entry: dict = {}
    if pairs is not None:
        if not pairs:
            raise ConfigError("pairs is empty: give name → (baseline, run) or pass baseline= and checkpoints=")
        net = next(iter(pairs)) if net is None else net
        if net not in pairs:
            raise ConfigError(f"net '{net}' is not one of the pairs {list(pairs)}")
        e = pairs[net]
        entry = dict(e) if isinstance(e, Mapping) else dict(zip(("baseline", "target"), e))
    baseline = entry.get("baseline") if baseline is None else baseline
    checkpoints = entry.get("target") if checkpoints is None else checkpoints
    if baseline is None or checkpoints is None:
        raise ConfigError("a sweep needs baseline= and checkpoints= (or pairs with name → (baseline, run))")
    net = net or "sweep"
    cps = find_checkpoints(checkpoints)
    arch = entry.get("arch") or checkpoints_arch(checkpoints)
    pair = dict(baseline=baseline, target=cps[-1].path, **{k: entry[k] for k in ("dataset_root", "dataset_name",
                                                                                  "param_key") if entry.get(k)},
                **({"arch": arch} if arch is not None else {}))
    methods = ["faig"] if given.methods is None else given.methods
    lab = setup(given.replace(pairs={net: pair}, net=net, methods=methods), rank=False, engine=engine)
    p = lab.pair
    if max_images is not None:
        p.data = p.data.subset(max_images)
    ranked = p.data if crop is None else p.data.subset(size=crop)
    sweep = rank_checkpoints(p.baseline, cps, ranked, lab.layout.sweep(net, p.dataset_name), lab.methods,
                             engine=lab.engine, n_steps=lab.n_steps, quadrature=lab.quadrature, device=lab.device,
                             arch=arch, param_key=entry.get("param_key"), progress=progress)
    return lab, sweep
