"""The straight path in parameter space between the target and the baseline."""
import pytest
import torch

from faig_helpers.checkpoint import load_pair
from faig_helpers.parameter_path import ParameterPath

from helpers import tiny_pair


@pytest.fixture
def models(tmp_path):
    return load_pair(*tiny_pair(tmp_path))


def test_parameter_path_endpoints_are_exact(models):
    baseline, target = models
    path = ParameterPath(baseline, target)
    for n, p in target.named_parameters():
        assert torch.equal(path.params(0.0)[n], p.detach())
        assert torch.equal(path.params(1.0)[n], dict(baseline.named_parameters())[n].detach())
    x = torch.rand(1, 3, 10, 10)
    with torch.no_grad():
        assert torch.equal(path(x, path.params(0.0)), target(x))
        assert torch.allclose(path(x, path.params(1.0)), baseline(x), atol=1e-6)
