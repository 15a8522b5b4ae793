"""Every results path of FAIG Lab, in one place (the original tools' layout where one exists).

Below a results folder R (``results/`` by default, git-ignored):

    R/neuron-search/{net}/{dataset}/{method}/{D}_index.txt      rankings, one per degradation D
    R/Interpret/neuron-search/…                                  the same, where the original project wrote them
    R/cache/                                                     per-image partial results (resume)
    R/masking/{net}/{dataset}/{method}/{k}kernels/{mask}/{input folder}/NAME.png
    R/gradient/{net}/{dataset}/{method}/{k}kernels/{mask}/{input folder}/NAME.npy
    R/gradient/{net}/{dataset}/targetmodel-sr/{input folder}/NAME.npy
    R/metrics/{net}/{dataset}/{method}_{mask}_{D}.txt, substitution.csv
    R/prediction/{net}/{dataset}/                                scores.csv, accuracy.csv
    R/sweeps/{net}/{dataset}/{checkpoint}/…                      checkpoint sweeps
    R/models/                                                    exported (modulated) checkpoints
    R/bench/                                                     benchmark tables

Output folders are resolved as: an explicit argument, else the environment variable of
:data:`OUTPUT_ENV` (the test suite points them at a temporary folder), else the repository's
``results/`` and ``figures/``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUTPUT_ENV", "REPO", "output_dirs", "Layout"]

REPO = Path(__file__).resolve().parent.parent
#: environment variables that redirect outputs when no folder is given explicitly
OUTPUT_ENV = {"results": "FAIG_LAB_RESULTS_DIR", "figures": "FAIG_LAB_FIGURES_DIR"}
_DEFAULTS = {"results": REPO / "results", "figures": REPO / "figures"}


def output_dirs(results_dir: str | os.PathLike | None = None, figures_dir: str | os.PathLike | None = None
                ) -> tuple[Path, Path]:
    """(results, figures) folders: the explicit argument, else ``$FAIG_LAB_RESULTS_DIR`` /
    ``$FAIG_LAB_FIGURES_DIR``, else the repository's ``results/`` and ``figures/``."""
    out = []
    for kind, given in (("results", results_dir), ("figures", figures_dir)):
        env = os.environ.get(OUTPUT_ENV[kind])
        out.append(Path(given) if given is not None else Path(env) if env else _DEFAULTS[kind])
    return out[0], out[1]


@dataclass(frozen=True)
class Layout:
    """The paths below one results folder."""

    results: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", Path(self.results))

    def rankings(self, net: str, dataset: str, method: str) -> Path:
        """Where this project writes a method's rankings."""
        return self.results / "neuron-search" / net / dataset / method

    def ranking_candidates(self, net: str, dataset: str, method: str) -> list[Path]:
        """Folders a method's rankings are read from: ours, then the original project's ``Interpret/``."""
        return [self.rankings(net, dataset, method),
                self.results / "Interpret" / "neuron-search" / net / dataset / method]

    @property
    def cache(self) -> Path:
        return self.results / "cache"

    def masking(self, net: str, dataset: str, method: str, k: int, mask_folder: str, input_folder: str) -> Path:
        """Restored PNGs of a model with ``k`` filters substituted, on one input folder."""
        return self.results / "masking" / net / dataset / method / f"{k}kernels" / mask_folder / input_folder

    def gradient(self, net: str, dataset: str, method: str, k: int | None, mask_folder: str, input_folder: str
                 ) -> Path:
        """Gradient maps of the same outputs; ``k`` None: the target's own outputs."""
        base = self.results / "gradient" / net / dataset
        if k is None:
            return base / "targetmodel-sr" / input_folder
        return base / method / f"{k}kernels" / mask_folder / input_folder

    def metrics(self, net: str, dataset: str) -> Path:
        return self.results / "metrics" / net / dataset

    def prediction(self, net: str, dataset: str) -> Path:
        return self.results / "prediction" / net / dataset

    def sweep(self, net: str, dataset: str) -> Path:
        return self.results / "sweeps" / net / dataset

    @property
    def models(self) -> Path:
        return self.results / "models"

    @property
    def bench(self) -> Path:
        return self.results / "bench"
