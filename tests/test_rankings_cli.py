import numpy as np
import pytest

from faig_helpers.__main__ import main
from faig_helpers.methods import FAIG, METHODS, PAPER_METHODS, FilterScores, attribute
from faig_helpers.checkpoint import load_pair
from faig_helpers.degradations import load_dataset
from faig_helpers.errors import RankingError
from faig_helpers.layout import Layout
from faig_helpers.rankings import load_ranking, load_scores, rank_all, save_rankings

from helpers import save_tiny_root, tiny_data, tiny_pair


def load_rankings(folder):
    s = load_scores(folder, "x")
    return {"blur": s.ranking("blur"), "noise": s.ranking("noise")}


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


@pytest.mark.parametrize("method", list(METHODS))
def test_cli_reproduces_the_api_ranking(tmp_path, method):
    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    on_disk = load_dataset(tmp_path / "root")
    out = Layout(tmp_path / "results").rankings("srresnet", "tiny", method)
    main(["rank", "--method", method, "--baseline", str(b), "--target", str(t), "--dataset-root",
          str(tmp_path / "root"), "--steps", "6", "--quadrature", "riemann_left", "--seed", "3", "--out", str(out)])
    api = attribute(method, *load_pair(b, t), on_disk, seed=3, n_steps=6, quadrature="riemann_left", progress=False)
    got = load_scores(out, method)
    for deg in ("blur", "noise"):
        assert np.array_equal(got.ranking(deg), api.ranking(deg))
        np.testing.assert_allclose(got.score(deg), api.score(deg), rtol=1e-6)


def test_cli_bad_input_is_one_clear_line(tmp_path, capsys):
    b, t = tiny_pair(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["rank", "--baseline", str(b), "--target", str(tmp_path / "nope.pth"), "--dataset-root", str(tmp_path),
              "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "nope.pth: no such checkpoint file" in capsys.readouterr().err


def test_non_finite_checkpoint_is_one_clear_line_and_writes_nothing(tmp_path, capsys):
    import torch
    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    ckpt = torch.load(t, weights_only=True)
    key = next(iter(ckpt["params_ema"]))
    ckpt["params_ema"][key][0, 0, 0, 0] = float("nan")
    torch.save(ckpt, tmp_path / "nan.pth")
    with pytest.raises(SystemExit) as e:
        main(["rank", "--baseline", str(b), "--target", str(tmp_path / "nan.pth"), "--dataset-root",
              str(tmp_path / "root"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"nan.pth: '{key}' holds 1 non-finite value (NaN/Inf)" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


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


def test_killed_cli_run_resumes_to_the_identical_ranking(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(6, size=24), tmp_path / "root")
    args = [sys.executable, "-m", "faig_helpers", "rank", "--baseline", str(b), "--target", str(t),
            "--dataset-root", str(tmp_path / "root"), "--steps", "60", "--quadrature", "riemann_left",
            "--cache", str(tmp_path / "cache")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args + ["--out", str(tmp_path / "killed")], env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((tmp_path / "cache").rglob("*.npz")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = list((tmp_path / "cache").rglob("*.npz"))
    assert 1 <= len(done) < 6, "the run should have been killed part-way"
    assert not (tmp_path / "killed" / "blur_index.txt").exists()  # no half-written result
    subprocess.run(args + ["--out", str(tmp_path / "resumed")], env=env, check=True, stderr=subprocess.DEVNULL)
    subprocess.run([*args[:-2], "--cache", str(tmp_path / "fresh"), "--out", str(tmp_path / "fresh_out")],
                   env=env, check=True, stderr=subprocess.DEVNULL)
    a, f = load_rankings(tmp_path / "resumed"), load_rankings(tmp_path / "fresh_out")
    assert np.array_equal(a["blur"], f["blur"]) and np.array_equal(a["noise"], f["noise"])


def test_repeated_runs_with_any_worker_count_write_identical_ranking_files(tmp_path):
    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(3), tmp_path / "root")
    outs = []
    for i, workers in enumerate((1, 2, 1)):
        out = tmp_path / f"run{i}"
        main(["rank", "--baseline", str(b), "--target", str(t), "--dataset-root", str(tmp_path / "root"),
              "--workers", str(workers), "--out", str(out)])  # the defaults: adaptive quadrature
        outs.append(out)
    for d in ("blur", "noise"):
        files = [(o / f"{d}_index.txt").read_bytes() for o in outs]
        scores = [(o / f"{d}_score.npy").read_bytes() for o in outs]
        assert files[0] == files[1] == files[2] and scores[0] == scores[1] == scores[2]


def test_rank_says_how_the_integral_went_and_records_it(tmp_path, capsys):
    """The default rule: one summary line on stderr, the same numbers in the --out folder's meta.json and in
    FilterScores.convergence(); an image stopped by the node cap warns by name."""
    import json

    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match=r"image 'img\d.png' reached the node cap \(9 nodes\)"):
        main(["rank", "--baseline", str(b), "--target", str(t), "--dataset-root", str(tmp_path / "root"),
              "--steps", "9", "--out", str(out)])
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if ln.startswith("faig: nodes per image"))
    meta = json.loads((out / "meta.json").read_text())
    c = meta["convergence"]
    assert c["nodes_min"] <= c["nodes_median"] <= c["nodes_max"] <= 9 and c["capped"]
    assert f"{c['nodes_min']} / {c['nodes_median']:g} / {c['nodes_max']}" in line and "hit the cap" in line
    assert meta["quadrature"] == "adaptive" and meta["images"] == ["img0.png", "img1.png"]
    api = FAIG(*load_pair(b, t)).attribute(load_dataset(tmp_path / "root"), n_steps=9, progress=False)
    assert api.convergence() == c and api.summary() == line


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


def test_zero_workers_and_zero_percent_are_clear_errors(tmp_path, capsys):
    b, t = tiny_pair(tmp_path)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    with pytest.raises(SystemExit) as e:
        main(["rank", "--baseline", str(b), "--target", str(t), "--dataset-root", str(tmp_path / "root"),
              "--workers", "0", "--out", str(tmp_path / "o")])
    assert e.value.code == 2 and "--workers must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["modulate", "--baseline", str(b), "--target", str(t), "--dataset-root", str(tmp_path / "root"),
              "--degradation", "noise", "--lambda", "0.5", "--percent", "0", "--out", str(tmp_path / "m.pth")])
    assert e.value.code == 2 and "--percent must be in (0, 100]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "m.pth").exists()
