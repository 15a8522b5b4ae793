from faig_helpers.checkpoint import load_pair
from faig_helpers.convergence import convergence_table
from faig_helpers.methods import FAIG
from helpers import tiny_data, tiny_pair


def test_one_row_per_rule_and_node_count_and_the_adaptive_rule_once_at_its_mean(tmp_path):
    faig = FAIG(*load_pair(*tiny_pair(tmp_path)))
    data = tiny_data(2)
    reference = faig.attribute(data, n_steps=4, quadrature="riemann_middle", progress=False)
    table = convergence_table(faig, data, ["riemann_middle", "adaptive"], [2, 4], reference=reference,
                              progress=False)
    assert list(zip(table.rule, table.nodes))[:2] == [("riemann_middle", 2), ("riemann_middle", 4)]
    assert len(table) == 3 and table.rule.iloc[2] == "adaptive" and 5 <= table.nodes.iloc[2] <= 129
    assert table.jaccard_blur.iloc[1] == table.jaccard_noise.iloc[1] == 1.0  # the reference itself
    assert (table.abs_delta >= 0).all() and table.filter(like="jaccard").le(1).all().all()
