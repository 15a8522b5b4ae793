"""What callers read from the method registry: a method registered once reaches the table, the curves and the
CLI."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import faig_helpers as fl  # noqa: E402
from faig_helpers.__main__ import main  # noqa: E402

from helpers import save_tiny_root, tiny_data, tiny_pair  # noqa: E402


@pytest.fixture
def throwaway():
    """A method registered for one test (and removed afterwards): filters ranked by their weight norm."""

    @fl.methods.register
    class WeightNorm(fl.methods.Attribution):
        name, inputs = "weight_norm_test", ()

        def reduce(self, results, degradations, info):
            norm = self.index.per_filter({n: self.path.theta[n].abs() for n in self.index.names}).double().numpy()
            return fl.FilterScores(self.name, {d: norm for d in degradations}, info=info)

    yield WeightNorm
    fl.METHODS.unregister("weight_norm_test")


def test_a_registered_method_reaches_the_table_the_curves_and_the_cli(throwaway, tmp_path):
    assert throwaway.label == "weight_norm_test" and throwaway.colour is not None  # defaults filled in
    assert all(throwaway.colour != m.colour for n, m in fl.METHODS.items() if n != throwaway.name)
    b, t = tiny_pair(tmp_path)
    baseline, target = fl.load_pair(b, t)
    data = tiny_data(2)
    ranked = fl.rank_all(baseline, target, data, results=tmp_path / "res", net="n", dataset="d", n_steps=2,
                         quadrature="riemann_middle", progress=False)  # methods=None: the paper's set
    assert "weight_norm_test" in ranked and set(ranked) == set(fl.methods.PAPER_METHODS)  # a new method joins it
    table = fl.compare(baseline, target, ranked, data, (0, 10, 100), progress=False)
    assert set(table.method) == set(ranked)
    axes = fl.viz.plot_substitution_table(table, [10])
    assert "weight_norm_test" in [t.get_text() for t in axes[0].get_yticklabels()]
    grid = fl.viz.plot_substitution_curves(table)
    assert "weight_norm_test" in [t.get_text() for t in grid[0, 0].get_legend().get_texts()]
    plt.close("all")
    save_tiny_root(data, tmp_path / "root")
    out = tmp_path / "cli"
    main(["rank", "--method", "weight_norm_test", "--baseline", str(b), "--target", str(t), "--dataset-root",
          str(tmp_path / "root"), "--out", str(out)])
    np.testing.assert_array_equal(fl.rankings.load_scores(out, "x").ranking("blur"),
                                  ranked["weight_norm_test"].ranking("blur"))
