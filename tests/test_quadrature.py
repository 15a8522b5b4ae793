"""Quadrature rules on [0, 1]: weights, nodes, exactness and the adaptive rule's nested levels."""
import numpy as np
import pytest

from faig_helpers.quadrature import QUADRATURES, nodes_and_weights, refinements


@pytest.mark.parametrize("method", [r for r in QUADRATURES if r != "adaptive"])
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


def test_adaptive_levels_are_the_nested_trapezoid_rule():
    g = lambda a: np.exp(2 * a)  # noqa: E731
    estimate, nodes = 0.0, 0
    for a, w, keep in refinements("adaptive", 70):
        estimate = keep * estimate + (w * g(a)).sum()
        nodes += len(a)
        ta, tw = nodes_and_weights("riemann_trapezoid", nodes)
        assert estimate == pytest.approx((tw * g(ta)).sum(), rel=1e-12)  # the same as 2^j + 1 nodes at once
    assert nodes == 65 and estimate == pytest.approx((np.exp(2) - 1) / 2, rel=1e-4)
    with pytest.raises(ValueError, match="too small for 'adaptive'"):
        next(refinements("adaptive", 4))
    assert [len(a) for a, _, _ in refinements("adaptive", 129)] == [5, 4, 8, 16, 32, 64]  # 5, 9, 17, 33, 65, 129
