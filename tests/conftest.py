import os

import pytest
import torch

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def embedded_data():
    from faig_helpers.degradations import load_dataset
    from faig_helpers.embedded import DATASET_ROOT

    return load_dataset(DATASET_ROOT)
