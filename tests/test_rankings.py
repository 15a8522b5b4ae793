"""Rankings in the original layout, and ranking every method at once with reuse."""
import numpy as np
import pytest

from faig_helpers.checkpoint import load_pair
from faig_helpers.errors import RankingError
from faig_helpers.layout import Layout
from faig_helpers.methods import FAIG, PAPER_METHODS, FilterScores, attribute
from faig_helpers.rankings import load_ranking, load_scores, rank_all, save_rankings

from helpers import load_rankings, tiny_data, tiny_pair


def test_original_format_loads_unchanged(tmp_path):
    perm = np.random.default_rng(0).permutation(50)
    np.savetxt(tmp_path / "blur_index.txt", perm, delimiter=",", fmt="%d")  # how the original wrote them
    np.savetxt(tmp_path / "noise_index.txt", perm[::-1], delimiter=",", fmt="%d")
    s = load_scores(tmp_path, "faig", 50)
    assert np.array_equal(s.ranking("blur"), perm) and np.array_equal(s.ranking("noise"), perm[::-1])
    assert s.info["source"] == "index files" and np.array_equal(s.top("blur", 10), perm[:5])


def test_bad_ranking_files_are_clear_errors(tmp_path):
    (tmp_path / "x.txt").write_text("0\n1\n1\n")
    with pytest.raises(RankingError, match="x.txt: expected a permutation of 0..2"):
        load_ranking(tmp_path / "x.txt")
    with pytest.raises(RankingError, match="expected a permutation of 0..9"):
        load_ranking(tmp_path / "x.txt", 10)
    (tmp_path / "y.txt").write_text("zero\n")
    with pytest.raises(RankingError, match="y.txt: expected one integer a line"):
        load_ranking(tmp_path / "y.txt")
    with pytest.raises(RankingError, match="no such ranking file"):
        load_ranking(tmp_path / "missing.txt")


def test_rank_all_reuses_and_invalidates(tmp_path):
    b, t = tiny_pair(tmp_path)
    baseline, target = load_pair(b, t)
    data = tiny_data(2)
    kw = dict(results=tmp_path / "res", net="n", dataset="d", n_steps=3, quadrature="riemann_middle", progress=False)
    first = rank_all(baseline, target, data, **kw)
    assert set(first) == set(PAPER_METHODS) and all(s.info.get("source") is None for s in first.values())
    again = rank_all(baseline, target, data, **kw)
    for m in PAPER_METHODS:  # loaded, with the identical scores and per-image scores
        assert again[m].info["source"] == "saved scores"
        np.testing.assert_array_equal(again[m].score("blur"), first[m].score("blur"))
    np.testing.assert_allclose(again["faig"].per_image["blur"], first["faig"].per_image["blur"], rtol=1e-6)
    # other settings, other images or other models: recomputed
    other = rank_all(baseline, target, data, **{**kw, "n_steps": 4}, methods=["faig", "random"])
    assert other["faig"].info.get("source") is None and other["random"].info["source"] == "saved scores"
    data2 = tiny_data(2, seed=5)
    assert rank_all(baseline, target, data2, **kw, methods=["ig"])["ig"].info.get("source") is None
    swapped = rank_all(target, baseline, data, **kw, methods=["abs_filter_change"])["abs_filter_change"]
    assert swapped.info.get("source") is None
    # an incomplete folder (no meta.json after an interrupted save) is recomputed
    (Layout(tmp_path / "res").rankings("n", "d", "random") / "meta.json").unlink()
    (Layout(tmp_path / "res").rankings("n", "d", "random") / "noise_index.txt").unlink()
    assert rank_all(baseline, target, data, **kw, methods=["random"])["random"].info.get("source") is None
    # a corrupt folder of index files without meta.json (taken as published) is a clear error
    folder = Layout(tmp_path / "res").rankings("n", "d", "random")
    (folder / "meta.json").unlink()
    (folder / "noise_index.txt").write_text("3\n3\n")
    with pytest.raises(RankingError, match="noise_index.txt: expected a permutation"):
        rank_all(baseline, target, data, **kw, methods=["random"])


class _NoImages:
    """An engine that refuses work: what is run through it must come from the per-image cache."""

    def map(self, task, items, model, device):
        assert not items, f"{len(items)} images computed again"
        return iter(())


def test_a_fresh_ranking_refreshes_the_per_image_cache_that_later_runs_reuse(tmp_path):
    b, t = tiny_pair(tmp_path)
    baseline, target = load_pair(b, t)
    data = tiny_data(2)
    kw = dict(results=tmp_path / "res", net="n", dataset="d", n_steps=3, quadrature="riemann_middle",
              progress=False, methods=["faig"])
    first = rank_all(baseline, target, data, **kw, reuse=False)["faig"]
    cached = sorted(Layout(tmp_path / "res").cache.rglob("*.npz"))
    assert len(cached) == len(data)
    cached[0].write_bytes(b"stale")  # reuse=False computes every image again: the stale entry is not read
    again = rank_all(baseline, target, data, **kw, reuse=False)["faig"]
    np.testing.assert_array_equal(again.score("blur"), first.score("blur"))
    plain = FAIG(baseline, target, eliminate=False).attribute(data, n_steps=3, quadrature="riemann_middle",
                                                              cache_dir=Layout(tmp_path / "res").cache,
                                                              progress=False, engine=_NoImages())
    assert plain.per_image["blur"].shape == first.per_image["blur"].shape


def test_rank_all_loads_the_original_published_layout(tmp_path, capsys):
    b, t = tiny_pair(tmp_path)
    baseline, target = load_pair(b, t)
    n = len(attribute("random", baseline, target))
    folder = tmp_path / "res" / "Interpret" / "neuron-search" / "srresnet" / "Set14" / "faig"
    folder.mkdir(parents=True)
    perm = np.random.default_rng(1).permutation(n)
    np.savetxt(folder / "blur_index.txt", perm, fmt="%d")
    np.savetxt(folder / "noise_index.txt", perm[::-1], fmt="%d")
    got = rank_all(baseline, target, tiny_data(2), results=tmp_path / "res", net="srresnet", dataset="Set14",
                   methods=["faig"], progress=False)["faig"]
    assert np.array_equal(got.ranking("blur"), perm) and "as they are" in capsys.readouterr().out


def test_save_rankings_round_trip(tmp_path):
    s = FilterScores("x", {"blur": np.array([0.1, 0.5, 0.3]), "noise": np.array([0.3, 0.2, 0.1])})
    save_rankings(tmp_path, s)
    assert (tmp_path / "blur_index.txt").read_text() == "1\n2\n0\n"
    assert list(load_rankings(tmp_path)["noise"]) == [0, 1, 2]
