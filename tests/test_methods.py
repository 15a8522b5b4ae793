"""The attribution methods: FAIG (quadrature, adaptive rule, precision, N degradations, resume, cache), IG, the
baselines, the learned mask, and the one contract every registered method keeps."""
import copy

import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.checkpoint import load_pair
from faig_helpers.embedded import JPEG_DATASET_ROOT, pair_paths
from faig_helpers.engines import LocalEngine
from faig_helpers.errors import AttributionError
from faig_helpers.filters import FilterIndex, ranking_from_scores
from faig_helpers.filters import top_jaccard as fl_top_jaccard
from faig_helpers.methods import (ADAPTIVE_CHANGE, ADAPTIVE_DELTA, ADAPTIVE_MIN_NODES, FAIG, METHODS,
                                  AbsoluteFilterChange, Attribution, IntegratedGradients, RandomFilters, attribute)
from faig_helpers.reference import original_faig_scores

from helpers import tiny_data, tiny_pair

STEPS = 100


def test_adaptive_rule_stops_when_the_ranked_score_is_stable(tmp_path):
    """Each image stops at the first level of at least ADAPTIVE_MIN_NODES nodes where its ranked score
    s = A_blur − A_noise moved by at most ADAPTIVE_CHANGE (relative L1) since the previous level and both
    completeness deltas are within ADAPTIVE_DELTA of the attribution mass — and its result is then the trapezoid
    rule on that many nodes."""
    baseline, target = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(2)
    f = FAIG(baseline, target)
    levels = [5, 9, 17, 33, 65, 129]
    trap = {n: [f.attribute_inputs([data.inputs["blur"][i], data.inputs["noise"][i]], data.gt[i], n,
                                   "riemann_trapezoid") for i in range(2)] for n in levels}

    def score(n: int, i: int) -> np.ndarray:
        return trap[n][i]["A"][0] - trap[n][i]["A"][1]

    def stable(n_prev: int, n: int, i: int) -> bool:
        moved = np.abs(score(n, i) - score(n_prev, i)).sum() / np.abs(score(n, i)).sum()
        return moved <= ADAPTIVE_CHANGE and np.abs(trap[n][i]["delta_mass"]).max() <= ADAPTIVE_DELTA

    s = f.attribute(data, n_steps=129, quadrature="adaptive", progress=False)
    assert s.info["cancelled"] == []
    for i, nodes in enumerate(s.info["nodes"]):
        j = levels.index(nodes)
        first = levels.index(ADAPTIVE_MIN_NODES)
        assert j >= first and (stable(levels[j - 1], nodes, i) or nodes == 129)  # stopped when stable (or the cap)
        assert not any(stable(levels[m - 1], levels[m], i) for m in range(first, j))  # and not before
        np.testing.assert_allclose(s.per_image["blur"][i], score(nodes, i), rtol=1e-4,
                                   atol=1e-6 * np.abs(trap[nodes][i]["A"]).max())


def test_a_score_that_cancels_is_flagged_not_ranked_silently(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(1)
    x = data.inputs["blur"][0]
    with pytest.warns(UserWarning, match="cancels below float32 noise"):
        r = FAIG(baseline, target).attribute_inputs([x, x.clone()], data.gt[0], 17, "adaptive")
    assert bool(r["cancelled"]) and int(r["nodes"]) == 17  # refined to the cap, then flagged
    ok = FAIG(baseline, target).attribute_inputs([x, data.inputs["noise"][0]], data.gt[0], 17, "adaptive")
    assert not bool(ok["cancelled"])


def test_bf16_precision_keeps_the_ranking_and_is_recorded(tmp_path):
    baseline, target = load_pair(*tiny_pair(tmp_path))
    data = tiny_data(2)
    kw = dict(n_steps=4, quadrature="riemann_middle", progress=False)
    fp32 = FAIG(baseline, target).attribute(data, **kw)
    bf16 = FAIG(baseline, target, precision="bf16").attribute(data, **kw)
    assert fp32.info["precision"] == "fp32" and bf16.info["precision"] == "bf16"
    assert not np.array_equal(bf16.score("blur"), fp32.score("blur"))  # really computed in bf16
    assert fl_top_jaccard(bf16.score("blur"), fp32.score("blur"), 10) >= 0.8
    auto = FAIG(baseline, target, precision="auto")
    assert auto.precision == "fp32"  # auto never picks bf16: it changes the top-1% sets wherever measured
    with pytest.raises(ValueError, match="precision must be one of"):
        FAIG(baseline, target, precision="fp8")


@pytest.fixture(params=["srresnet", "srcnn_style"])
def pair(request, tmp_path):
    b, t = tiny_pair(tmp_path, request.param)
    return (b, t, *load_pair(b, t))


def test_faig_rankings_come_from_one_computation(pair):
    *_, baseline, target = pair
    s = FAIG(baseline, target).attribute(tiny_data(), n_steps=4, quadrature="riemann_middle", progress=False)
    n = len(FilterIndex.from_state_dict(target.state_dict()))
    assert np.array_equal(s.score("blur"), -s.score("noise"))
    for idx in (s.ranking("blur"), s.ranking("noise")):
        assert np.array_equal(np.sort(idx), np.arange(n))
    assert np.array_equal(s.ranking("blur"), s.ranking("noise")[::-1]) or np.unique(s.score("blur")).size < n
    assert s.per_image["blur"].shape == (3, n)
    np.testing.assert_allclose(s.per_image["blur"].mean(0), s.score("blur"))
    assert len(s.top("blur", 10)) == n // 10


def test_left_riemann_matches_the_faithful_original_loop(pair):
    b, t, baseline, target = pair
    data = tiny_data()
    ours = FAIG(baseline, target).attribute(data, n_steps=10, quadrature="riemann_left", progress=False)
    blur_sum, noise_sum = original_faig_scores(b, t, data, total_step=10)
    np.testing.assert_allclose(ours.score("blur") * len(data), blur_sum, rtol=2e-3,
                               atol=1e-6 * np.abs(blur_sum).max())
    np.testing.assert_allclose(ours.score("noise") * len(data), noise_sum, rtol=2e-3,
                               atol=1e-6 * np.abs(noise_sum).max())
    k = max(1, len(blur_sum) // 100)
    assert set(ours.ranking("blur")[:k]) == set(np.argsort(blur_sum)[::-1][:k])
    assert set(ours.ranking("noise")[:k]) == set(np.argsort(noise_sum)[::-1][:k])


def test_completeness_delta_validates_the_quadrature(pair):
    *_, baseline, target = pair
    data = tiny_data(2)
    f = FAIG(baseline, target)
    gl = f.attribute(data, n_steps=64, quadrature="gausslegendre", progress=False)
    left = f.attribute(data, n_steps=16, quadrature="riemann_left", progress=False)
    assert gl.delta.shape == (2, 2)
    assert np.abs(gl.delta).max() < 2e-3          # a path integral of the gradient: Σ G⊙Δθ = L(θ̄) − L(θ)
    assert np.abs(left.delta).mean() > 5 * np.abs(gl.delta).mean()


def test_faig_resumes_after_interruption_with_identical_ranking(pair, tmp_path, monkeypatch):
    *_, baseline, target = pair
    data = tiny_data(3)
    kw = dict(n_steps=4, quadrature="riemann_middle", progress=False, engine=LocalEngine(1))
    full = FAIG(baseline, target).attribute(data, **kw)
    f = FAIG(baseline, target)
    real, calls = f.attribute_image, []

    def flaky(*args, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(f, "attribute_image", flaky)
    with pytest.raises(KeyboardInterrupt):
        f.attribute(data, cache_dir=tmp_path / "cache", **kw)
    saved = list((tmp_path / "cache").rglob("*.npz"))
    assert len(saved) == 2 and not list((tmp_path / "cache").rglob("*.tmp*"))
    calls.clear()
    resumed = f.attribute(data, cache_dir=tmp_path / "cache", **kw)
    assert len(calls) == 1  # only the missing image was computed
    assert np.array_equal(resumed.ranking("blur"), full.ranking("blur"))
    assert np.array_equal(resumed.score("blur"), full.score("blur"))


def test_ig_equals_an_explicit_loop_over_steps(pair):
    *_, baseline, target = pair
    data = tiny_data(1)
    ig = IntegratedGradients(baseline, target)
    ig.batch_size = 3
    got = ig.attribute(data, n_steps=5, quadrature="riemann_left", progress=False).score("blur")
    net = target.eval()
    params = [p for n, p in net.named_parameters() if n.endswith("weight")]
    total = [torch.zeros_like(p) for p in params]
    for k in range(5):
        x = data.clean[0] + k / 5 * (data.inputs["blur"][0] - data.clean[0])
        for acc, g in zip(total, torch.autograd.grad(net(x).sum(), params)):
            acc += g
    want = torch.cat([(t / 5).abs().sum((2, 3)).reshape(-1) for t in total]).double().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-8)


def test_abs_filter_change_formula():
    b, t = torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(1, 2, 3)
    with torch.no_grad():
        b.weight.fill_(1.0), t.weight.fill_(1.0), b.bias.zero_(), t.bias.fill_(1.0)
        t.weight[1, 0, 0, 0] = 4.0  # Σ|Δ| = 3, Σ|θ̄| = 9
    s = AbsoluteFilterChange(b, t).attribute()
    np.testing.assert_allclose(s.score("blur"), [0.0, 1 / 3])
    assert np.array_equal(s.ranking("blur"), s.ranking("noise"))


def test_random_is_seeded_and_independent_per_degradation(pair):
    *_, baseline, target = pair
    r1, r2 = RandomFilters(baseline, target, seed=1).attribute(), RandomFilters(baseline, target, seed=1).attribute()
    assert np.array_equal(r1.ranking("blur"), r2.ranking("blur"))
    assert not np.array_equal(r1.ranking("blur"), r1.ranking("noise"))
    other = RandomFilters(baseline, target, seed=2).attribute()
    assert not np.array_equal(r1.ranking("blur"), other.ranking("blur"))


def test_registry_and_one_contract(pair):
    *_, baseline, target = pair
    assert {"faig", "ig", "abs_filter_change", "random"} <= set(METHODS)
    data = tiny_data(2)
    results = {}
    for name, cls in list(METHODS.items()):
        assert issubclass(cls, Attribution) and cls.name == name
        s = cls(baseline, target, device="cpu", seed=0).attribute(data, n_steps=3, quadrature="riemann_middle",
                                                                 progress=False)
        assert s.method == name and len(s) == len(FilterIndex.from_state_dict(target.state_dict()))
        # the same per-image keys for every method that uses images
        assert set(s.per_image) == ({"blur", "noise"} if cls.uses_images() and name != "mask" else set())
        results[name] = s
    via = attribute("faig", baseline, target, data, n_steps=3, quadrature="riemann_middle", progress=False)
    np.testing.assert_array_equal(via.score("blur"), results["faig"].score("blur"))
    with pytest.raises(ValueError, match="unknown attribution method 'gradcam'"):
        attribute("gradcam", baseline, target, None)
    with pytest.raises(TypeError):
        FAIG(baseline, target, "cpu")  # options are keyword-only
    assert list(ranking_from_scores(np.array([1.0, 3.0, 3.0, 2.0]))) == [1, 2, 3, 0]


def test_non_finite_loss_stops_with_a_clear_error(pair):
    *_, baseline, target = pair
    data = tiny_data(2)
    data.inputs["noise"][1] = data.inputs["noise"][1].clone()
    data.inputs["noise"][1][0, 0, 0, 0] = float("nan")
    with pytest.raises(AttributionError, match="non-finite .* image 'img1.png'"):
        FAIG(baseline, target).attribute(data, n_steps=2, quadrature="riemann_middle", progress=False,
                                         engine=LocalEngine(1))


def test_a_corrupt_cache_entry_is_recomputed_with_a_warning(tmp_path):
    b, t = tiny_pair(tmp_path)
    data = tiny_data(2)
    f = FAIG(*load_pair(b, t))
    first = f.attribute(data, n_steps=4, quadrature="riemann_middle", cache_dir=tmp_path / "c", progress=False)
    entry = sorted((tmp_path / "c").rglob("*.npz"))[0]
    entry.write_bytes(entry.read_bytes()[:40])  # truncated, as a killed copy or a full disk leaves it
    with pytest.warns(UserWarning, match=rf"{entry.name}: unreadable cache entry .* recomputing this image"):
        again = f.attribute(data, n_steps=4, quadrature="riemann_middle", cache_dir=tmp_path / "c", progress=False)
    assert np.array_equal(again.score("blur"), first.score("blur"))
    with np.load(entry) as z:  # rewritten whole
        assert "A" in z


def test_a_method_moves_to_a_device_with_everything_it_keeps(tmp_path):
    """What a Ray worker does with a shipped method (checked on the meta device: no GPU needed)."""
    b, t = tiny_pair(tmp_path)
    for cls in (fl.FAIG, fl.methods.IntegratedGradients):
        m = cls(*fl.load_pair(b, t)).to("meta")
        tensors = [*m.path.theta.values(), *m.path.theta_bar.values(), *m.path.model.parameters(),
                   *getattr(m, "diff", {}).values()]
        assert m.device.type == m.path.device.type == "meta" and all(v.device.type == "meta" for v in tensors)


def test_the_mask_method_definition(tmp_path):
    """σ(s) = 1 everywhere is the graft of every filter; the trained logits separate the filters, seeded."""
    b, t = fl.load_pair(*tiny_pair(tmp_path))
    m = fl.METHODS["mask"](b, t, seed=3)
    params = m._params(torch.full((len(m),), 50.0))
    everything = fl.sufficiency.grafted_state_dict(b.state_dict(), t.state_dict(), np.arange(len(m)), m.index)
    assert all(torch.allclose(params[n], everything[n], atol=1e-6) for n in params)
    data = tiny_data(2)
    m.steps = 5
    a, again = m.attribute(data, progress=False), m.attribute(data, progress=False)
    assert np.array_equal(a.score("blur"), again.score("blur")) and a.info["training_seconds"] > 0
    assert np.std(a.score("blur")) > 0


# FAIG for N = 3 degradations on the compact pair's own root (blur, noise, JPEG q 50) against an independent loop
# written here: the original's left Riemann sum with the network rebuilt at every step, one input at a time, and the
# N-way score s_D = A_D − mean_{D' ≠ D} A_D' averaged over images.

def independent_scores(baseline: torch.nn.Module, target: torch.nn.Module, data) -> dict[str, np.ndarray]:
    theta_bar, theta = baseline.state_dict(), target.state_dict()
    index = FilterIndex.from_module(target)
    degs = data.degradations
    total = {d: 0.0 for d in degs}
    for i in range(len(data)):
        grads = {d: {k: torch.zeros_like(theta[k]) for k in index.names} for d in degs}
        for step in range(STEPS):
            alpha = step / STEPS  # θ(α) = α θ̄ + (1 − α) θ, α = 0, 1/n, …: the original's left sum from θ
            net = copy.deepcopy(target)
            net.load_state_dict({k: alpha * theta_bar[k] + (1 - alpha) * v for k, v in theta.items()})
            params = dict(net.named_parameters())
            for d in degs:
                net.zero_grad()
                ((net(data[d][i]) - data.gt[i]) ** 2).sum().backward()
                for k in index.names:
                    grads[d][k] += params[k].grad
        attr = {d: torch.cat([(grads[d][k] * (theta_bar[k] - theta[k]) / STEPS).abs().reshape(o * c, -1).sum(1)
                              for k, (o, c) in zip(index.names, index.shapes)]).double().numpy() for d in degs}
        for d in degs:
            others = np.mean([attr[e] for e in degs if e != d], axis=0)
            total[d] = total[d] + (attr[d] - others) / len(data)
    return total


def test_three_way_left_riemann_faig_equals_an_independent_loop():
    data = fl.load_dataset(JPEG_DATASET_ROOT, clean=False, limit=2).subset(size=12)
    assert data.degradations == ["blur", "noise", "jpeg"]
    baseline, target = fl.load_pair(*pair_paths("compact"))
    ours = fl.FAIG(baseline, target).attribute(data, n_steps=STEPS, quadrature="riemann_left", progress=False)
    ref = independent_scores(baseline, target, data)
    for d in data.degradations:
        # float32 sums of 100 steps in another order (AVX512 kernels, channels-last): ~1e-5 of the largest score
        np.testing.assert_allclose(ours.score(d), ref[d], rtol=2e-3, atol=1e-4 * np.abs(ref[d]).max())
        assert fl.top_jaccard(ours.score(d), ref[d], 1.0) == 1.0, d
