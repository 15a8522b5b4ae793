"""Degradations as data: a registry of operators with strengths, named degradations built from them,
and dataset roots in the original FAIG folder layout.

Per HR image y in [0, 1] (as the original ``generate_lr.py``; saved results are 8-bit):

* ``clean``:         x = Q(D_s(y))
* ``blur`` (σ = 2):  x = Q(D_s(k_σ * y)),  k_σ isotropic Gaussian, size 21, reflect-101 border
* ``noise`` (σ = 0.1): x = Q(D_s(y) + n),  n ~ N(0, σ²), seeded per file name
* ``jpeg`` (q = 50): x = J_q(Q(D_s(y))),  J_q = OpenCV's JPEG encode + decode at quality q, as BasicSR's
  ``add_jpg_compression``
* compositions in the written order, e.g. ``blur+noise+jpeg``: x = J_q(Q(D_s(k_σ * y) + n)) — the
  order of Real-ESRGAN's pipeline (blur → resize → noise → JPEG)

D_s is the ×s bilinear (OpenCV ``INTER_LINEAR`` at ×2) downsampling, i.e. the mean of each s×s block;
Q rounds and clips to 8 bit. A strength other than the default is written after the operator:
``blur1``, ``noise0.05``, ``jpeg30``, ``blur3+noise0.2``. The same code (:func:`~.operators.pipeline`)
degrades the training batches, so train and test degradations are identical.

**Folders.** GT ``GTmod12``, clean ``Linear_LRbicx2``, default blur ``Blur2_LRbicx2`` and default noise
``LRbicx2_noise0.1`` (the original's names, at every scale); every other degradation
``LRbicx2_{name with every strength written out}``, e.g. ``LRbicx2_jpeg50``, ``LRbicx2_blur1+noise0.1``.
A dataset root records its degradations in ``degradations.json``; a root without one is read as the
original layout (blur and noise).

One module per concept: :mod:`.operators` (the image operators, their registry and the pipeline),
:mod:`.names` (the name grammar, folder names) and :mod:`.datasets` (dataset roots, manifest). The command
that builds a root is ``python -m faig_helpers degrade`` (:mod:`faig_helpers.cli`).
"""
from __future__ import annotations

from .datasets import MANIFEST, DatasetRoot, build_dataset_root, load_dataset, read_manifest
from .names import CLEAN, CLEAN_FOLDER, GT_FOLDER, PAPER_SET, Degradation, degradation, degradation_set
from .operators import (BLUR_KERNEL, OPERATORS, Operator, Step, add_noise, blur, downsample, gaussian_kernel, jpeg,
                        pipeline, quantize, seeded_generator)

__all__ = ["gaussian_kernel", "downsample", "blur", "add_noise", "jpeg", "quantize", "seeded_generator", "Operator",
           "OPERATORS", "Step", "pipeline", "BLUR_KERNEL", "Degradation", "degradation", "degradation_set", "PAPER_SET",
           "CLEAN", "GT_FOLDER", "CLEAN_FOLDER", "MANIFEST", "DatasetRoot", "build_dataset_root", "read_manifest",
           "load_dataset"]
