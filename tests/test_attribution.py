import numpy as np
import pytest
import torch

from faig_helpers.attribution import (FAIG, AbsoluteFilterChange, IntegratedGradients, RandomFilters, attribute,
                                      ranking_from_scores)
from faig_helpers.checkpoint import load_pair
from faig_helpers.filters import FilterIndex
from faig_helpers.quadrature import METHODS, nodes_and_weights
from faig_helpers.reference import original_faig_scores

from helpers import tiny_data, tiny_pair


@pytest.mark.parametrize("method", METHODS)
def test_quadrature_weights_sum_to_one_and_integrate_linear_exactly(method):
    a, w = nodes_and_weights(method, 7)
    assert w.sum() == pytest.approx(1.0)
    assert (a >= 0).all() and (a <= 1).all()
    if method in ("riemann_middle", "riemann_trapezoid", "gausslegendre"):
        assert (w * a).sum() == pytest.approx(0.5)


def test_quadrature_nodes_of_the_original_and_gauss_legendre_exactness():
    a, w = nodes_and_weights("riemann_left", 100)
    assert np.allclose(a, np.arange(100) / 100) and np.allclose(w, 0.01)
    a, w = nodes_and_weights("gausslegendre", 4)  # exact for polynomials of degree ≤ 7
    assert (w * a**7).sum() == pytest.approx(1 / 8, rel=1e-12)
    with pytest.raises(ValueError, match="unknown quadrature"):
        nodes_and_weights("simpson", 4)


@pytest.fixture(params=["srresnet", "srcnn_style"])
def pair(request, tmp_path):
    b, t = tiny_pair(tmp_path, request.param)
    return (b, t, *load_pair(b, t))


def test_faig_rankings_come_from_one_computation(pair):
    *_, baseline, target = pair
    s = FAIG(baseline, target).attribute(tiny_data(), n_steps=4, progress=False)
    n = len(FilterIndex.from_state_dict(target.state_dict()))
    assert np.array_equal(s.blur, -s.noise)
    for idx in (s.blur_index, s.noise_index):
        assert np.array_equal(np.sort(idx), np.arange(n))
    assert np.array_equal(s.blur_index, s.noise_index[::-1]) or np.unique(s.blur).size < n
    assert s.per_image["A_blur"].shape == (3, n)


def test_left_riemann_matches_the_faithful_original_loop(pair):
    b, t, baseline, target = pair
    data = tiny_data()
    ours = FAIG(baseline, target).attribute(data, n_steps=10, method="riemann_left", progress=False)
    blur_sum, noise_sum = original_faig_scores(b, t, data, total_step=10)
    np.testing.assert_allclose(ours.blur * len(data), blur_sum, rtol=2e-3, atol=1e-6 * np.abs(blur_sum).max())
    np.testing.assert_allclose(ours.noise * len(data), noise_sum, rtol=2e-3, atol=1e-6 * np.abs(noise_sum).max())
    k = max(1, len(blur_sum) // 100)
    assert set(ours.blur_index[:k]) == set(np.argsort(blur_sum)[::-1][:k])
    assert set(ours.noise_index[:k]) == set(np.argsort(noise_sum)[::-1][:k])


def test_completeness_delta_validates_the_quadrature(pair):
    *_, baseline, target = pair
    data = tiny_data(2)
    f = FAIG(baseline, target)
    gl = f.attribute(data, n_steps=64, method="gausslegendre", return_convergence_delta=True, progress=False)
    left = f.attribute(data, n_steps=16, method="riemann_left", return_convergence_delta=True, progress=False)
    assert gl.delta.shape == (2, 2)
    assert np.abs(gl.delta).max() < 2e-3          # a path integral of the gradient: Σ G⊙Δθ = L(θ̄) − L(θ)
    assert np.abs(left.delta).mean() > 5 * np.abs(gl.delta).mean()


def test_faig_resumes_after_interruption_with_identical_ranking(pair, tmp_path, monkeypatch):
    *_, baseline, target = pair
    data = tiny_data(3)
    full = FAIG(baseline, target).attribute(data, n_steps=4, progress=False, workers=1)
    f = FAIG(baseline, target)
    real, calls = f.attribute_image, []

    def flaky(*args, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(f, "attribute_image", flaky)
    with pytest.raises(KeyboardInterrupt):
        f.attribute(data, n_steps=4, cache_dir=tmp_path / "cache", progress=False, workers=1)
    saved = list((tmp_path / "cache").rglob("*.npz"))
    assert len(saved) == 2 and not list((tmp_path / "cache").rglob("*.tmp*"))
    calls.clear()
    resumed = f.attribute(data, n_steps=4, cache_dir=tmp_path / "cache", progress=False, workers=1)
    assert len(calls) == 1  # only the missing image was computed
    assert np.array_equal(resumed.blur_index, full.blur_index)
    assert np.array_equal(resumed.blur, full.blur)


def test_ig_equals_an_explicit_loop_over_steps(pair):
    *_, baseline, target = pair
    data = tiny_data(1)
    ig = IntegratedGradients(target, batch_size=3)
    got = ig.attribute_image(data.clean[0], data.blur[0], n_steps=5, method="riemann_left")
    net = target.eval()
    params = [p for n, p in net.named_parameters() if n.endswith("weight")]
    total = [torch.zeros_like(p) for p in params]
    for k in range(5):
        x = data.clean[0] + k / 5 * (data.blur[0] - data.clean[0])
        for acc, g in zip(total, torch.autograd.grad(net(x).sum(), params)):
            acc += g
    want = torch.cat([(t / 5).abs().sum((2, 3)).reshape(-1) for t in total]).double().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-8)


def test_abs_filter_change_formula():
    b = {"a.weight": torch.ones(2, 1, 3, 3), "a.bias": torch.zeros(2)}
    t = {"a.weight": torch.ones(2, 1, 3, 3), "a.bias": torch.ones(2)}
    t["a.weight"][1, 0, 0, 0] = 4.0  # Σ|Δ| = 3, Σ|θ̄| = 9
    s = AbsoluteFilterChange(b, t).attribute()
    np.testing.assert_allclose(s.blur, [0.0, 1 / 3])
    assert np.array_equal(s.blur_index, s.noise_index)


def test_random_is_seeded_and_independent_per_degradation(pair):
    *_, target = pair
    r1, r2 = RandomFilters(target, 1).attribute(), RandomFilters(target, 1).attribute()
    assert np.array_equal(r1.blur_index, r2.blur_index)
    assert not np.array_equal(r1.blur_index, r1.noise_index)
    assert not np.array_equal(r1.blur_index, RandomFilters(target, 2).attribute().blur_index)


def test_dispatch_and_errors(pair):
    *_, baseline, target = pair
    assert attribute("abs_filter_change", baseline, target, None).method == "abs_filter_change"
    with pytest.raises(ValueError, match="unknown method 'gradcam'"):
        attribute("gradcam", baseline, target, None)
    assert list(ranking_from_scores(np.array([1.0, 3.0, 3.0, 2.0]))) == [1, 2, 3, 0]


def test_parallel_images_give_the_same_scores(pair):
    *_, baseline, target = pair
    data = tiny_data(4)
    f = FAIG(baseline, target)
    threads = torch.get_num_threads()
    one = f.attribute(data, n_steps=6, progress=False, workers=1)
    two = f.attribute(data, n_steps=6, progress=False, workers=2)
    assert torch.get_num_threads() == threads  # restored after the parallel run
    np.testing.assert_allclose(two.blur, one.blur, rtol=1e-4, atol=1e-7 * np.abs(one.blur).max())
    k = max(1, len(one.blur) // 100)
    assert set(two.blur_index[:k]) == set(one.blur_index[:k])
