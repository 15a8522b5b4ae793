"""Check ``fl.local_attribution_map`` against LAM's published code (X-Lowlevel-Vision/LAM_Demo, read and run from a
checkout given on the command line; nothing of it is copied here; its one incompatibility with current PyTorch,
``np.asarray`` of outputs that require grad, is bridged by detaching them): the same model, input and box through their
``GaussianBlurPath`` → ``Path_gradient`` → ``saliency_map_PG`` → ``grad_abs_norm`` → ``gini`` and through ours.

    python scripts/check_lam_published.py /path/to/LAM_Demo
"""
from __future__ import annotations

import sys

import numpy as np
import torch

import faig_helpers as fl
from faig_helpers.archs import RRDBNet
from faig_helpers.embedded import pair_paths


def main(checkout: str) -> None:
    # a torchvision stand-in where the real one does not import (their ModelZoo imports it)
    fl.archs.spandrel_fallback.import_spandrel()
    sys.path.insert(0, checkout)
    import SaliencyModel.BackProp as backprop
    from SaliencyModel.BackProp import GaussianBlurPath, Path_gradient, attribution_objective, saliency_map_PG

    class _NumpyOfTheirDay:  # their np.asarray(list of outputs) predates tensors that require grad
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def asarray(x, *a, **k):
            if isinstance(x, list) and x and isinstance(x[0], torch.Tensor):
                x = [t.detach().numpy() for t in x]
            return np.asarray(x, *a, **k)

    backprop.np = _NumpyOfTheirDay()
    from SaliencyModel.attributes import attr_grad
    from SaliencyModel.utils import gini, grad_abs_norm

    torch.manual_seed(0)
    models = {"MSRResNet (embedded target)": fl.load_model(pair_paths("srresnet")[1]),
              "RRDBNet ×4 (64 features, 2 blocks, seed 0)": RRDBNet(3, 3, scale=4, num_feat=64, num_block=2).eval()}
    data = fl.load_dataset(fl.embedded.DATASET_ROOT, clean=False)
    for name, model in models.items():
        scale = fl.archs.model_scale(model)
        lr = data.inputs["blur"][0][..., :40, :40].contiguous()
        box = (30, 22, 16)
        objective = attribution_objective(attr_grad, box[1], box[0], window=box[2])
        grads, _, _ = Path_gradient(lr[0].numpy(), model, objective, GaussianBlurPath(1.2, 50, 9))
        theirs, _ = saliency_map_PG(grads, np.zeros((50, 1)))
        their_map = grad_abs_norm(theirs)
        their_di = (1 - gini(their_map.copy())) * 100
        ours = fl.local_attribution_map(model, lr, box, scale=scale)
        rel = np.abs(ours.map - their_map).max() / their_map.max()
        print(f"{name}: map max relative difference {rel:.1e}, DI ours {ours.di:.4f} vs LAM {their_di:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
