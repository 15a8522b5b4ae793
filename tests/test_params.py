import pytest

from faig_helpers.errors import ConfigError
from faig_helpers.params import Params


def test_a_notebook_collects_what_it_was_given_and_its_own_defaults_fill_the_rest():
    namespace = {"net": "compact", "n_steps": None, "crop": 48}  # papermill sets names; None: not given
    p = Params.from_namespace(namespace, n_steps=8, quadrature="gausslegendre")
    assert (p.net, p.n_steps, p.quadrature, p.pairs) == ("compact", 8, "gausslegendre", None)
    assert set(Params.names()) >= {"pairs", "net", "dataset_root", "methods", "n_steps", "quadrature"}
    assert "crop" not in Params.names()  # a notebook's own parameter stays in its cell


def test_a_default_for_a_name_that_is_not_common_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"\['crop'\] are not common parameters"):
        Params.from_namespace({}, crop=48)


def test_explicit_arguments_of_a_call_win_over_the_params_they_came_with():
    given = Params(net="srresnet", n_steps=16, methods=["faig"])
    def setup(pairs=None, net=None, n_steps=None, methods=None, rank=True):  # a set-up's signature, in small
        return Params.of_call(pairs, locals())
    assert setup(given, n_steps=32) == given.replace(n_steps=32)  # None means "not given"
    assert setup({"a": ("b.pth", "t.pth")}, net="a").pairs == {"a": ("b.pth", "t.pth")}
    assert given.merged(net=None, device="cpu") == given.replace(device="cpu")
