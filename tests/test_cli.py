"""The command line: every subcommand against the API it calls, at any scale, resumed after a kill, and bad input as
one clear line."""
from pathlib import Path

import numpy as np
import pytest
import torch

import faig_helpers as fl
from faig_helpers.__main__ import main
from faig_helpers.archs import MSRResNet, SRCNNStyle
from faig_helpers.checkpoint import load_model, load_pair, save_checkpoint
from faig_helpers.cli import modulate_main
from faig_helpers.comparison import compare
from faig_helpers.degradations import load_dataset
from faig_helpers.embedded import DATASET_ROOT, pair_paths
from faig_helpers.evaluation import quality_table
from faig_helpers.filters import FilterIndex
from faig_helpers.images import write_image
from faig_helpers.layout import Layout
from faig_helpers.methods import FAIG, METHODS, attribute
from faig_helpers.modulation import modulated_state_dict
from faig_helpers.panel import ModulationPanel
from faig_helpers.rankings import load_scores

from helpers import load_rankings, save_tiny_root, saved_state_dict, tiny_data, tiny_pair
from sweep_helpers import tiny_experiment

LAM = 0.6


def _by_hand(baseline_sd, target_sd, index_file, lam, percent):
    """The modulated state dict built without the library: the filters are the 4-D weights in state-dict
    order, row-major over (out, in); the top k = max(1, ⌊n·p/100⌋) lines of the index file move."""
    order = [int(line) for line in open(index_file).read().split()]
    weights = [k for k, v in target_sd.items() if k.endswith("weight") and v.ndim == 4]
    n = sum(target_sd[k].shape[0] * target_sd[k].shape[1] for k in weights)
    chosen = set(order[:max(1, int(n * percent / 100))])
    out = {k: v.clone() for k, v in target_sd.items()}
    g = 0
    for k in weights:
        o_n, i_n = target_sd[k].shape[:2]
        for o in range(o_n):
            for i in range(i_n):
                if g in chosen:
                    out[k][o, i] = lam * target_sd[k][o, i] + (1 - lam) * baseline_sd[k][o, i]
                g += 1
    return out, len(chosen)


@pytest.fixture
def pair_and_ranking(tmp_path):
    b, t = tiny_pair(tmp_path)
    n = len(FilterIndex.from_state_dict(saved_state_dict(t)))
    folder = tmp_path / "ranking"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for d in ("blur", "noise"):
        (folder / f"{d}_index.txt").write_text("\n".join(map(str, rng.permutation(n))) + "\n")
    return b, t, folder


def test_exported_checkpoint_equals_an_independent_construction(pair_and_ranking, tmp_path):
    b, t, folder = pair_and_ranking
    out = tmp_path / "m.pth"
    modulate_main(["--baseline", str(b), "--target", str(t), "--ranking", str(folder), "--degradation", "noise",
                   "--lambda", str(LAM), "--percent", "1", "--out", str(out)])
    want, k = _by_hand(saved_state_dict(b), saved_state_dict(t), folder / "noise_index.txt", LAM, 1)
    assert k >= 1
    ckpt = torch.load(out, map_location="cpu", weights_only=True)
    assert set(ckpt) == {"params_ema", "params"}
    for key in ("params_ema", "params"):
        got = ckpt[key]
        assert list(got) == list(saved_state_dict(t))
        for name in want:
            assert torch.equal(got[name], want[name]), name
    changed = sum(int((want[n] != saved_state_dict(t)[n]).any(dim=(-1, -2)).sum()) for n in want if want[n].ndim == 4)
    assert changed == k  # exactly the top-k filters moved (random perturbation: every filter differs)
    model = load_model(out)  # our loader, strict
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        ref = MSRResNet(num_feat=8, num_block=1, upscale=2)
        ref.load_state_dict(want)
        assert torch.allclose(model(x), ref(x), atol=1e-6)


def test_export_function_matches_cli_and_dni_ends(pair_and_ranking, tmp_path):
    b, t, folder = pair_and_ranking
    a = fl.export_modulated(b, t, tmp_path / "a.pth", LAM, degradation_name="noise", percent=1, ranking=folder)
    modulate_main(["--baseline", str(b), "--target", str(t), "--ranking", str(folder / "noise_index.txt"),
                   "--degradation", "noise", "--lambda", str(LAM), "--out", str(tmp_path / "c.pth")])
    for k, v in saved_state_dict(a).items():
        assert torch.equal(v, saved_state_dict(tmp_path / "c.pth")[k])
    for lam, ref in ((0.0, b), (1.0, t)):
        modulate_main(["--baseline", str(b), "--target", str(t), "--dni", "--lambda", str(lam),
                       "--out", str(tmp_path / "d.pth")])
        for k, v in saved_state_dict(tmp_path / "d.pth").items():
            assert torch.equal(v, saved_state_dict(ref)[k]), (lam, k)
    main(["modulate", "--baseline", str(b), "--target", str(t), "--dni", "--lambda", "0.25", "--out",
          str(tmp_path / "q.pth")])  # python -m faig_helpers modulate
    for k, v in saved_state_dict(tmp_path / "q.pth").items():
        assert torch.equal(v, 0.25 * saved_state_dict(t)[k] + 0.75 * saved_state_dict(b)[k])


def test_cli_modulate_ranks_with_faig_on_a_dataset_root(tmp_path):
    b, t = tiny_pair(tmp_path)
    root = tmp_path / "root"
    save_tiny_root(tiny_data(2, size=16), root)
    out = tmp_path / "m.pth"
    modulate_main(["--baseline", str(b), "--target", str(t), "--dataset-root", str(root), "--degradation", "blur",
                   "--lambda", "0", "--percent", "5", "--steps", "4", "--quadrature", "gausslegendre",
                   "--out", str(out)])
    mb, mt = load_pair(b, t)
    scores = FAIG(mb, mt).attribute(fl.load_dataset(root, clean=False), n_steps=4, quadrature="gausslegendre",
                                    progress=False)
    want = modulated_state_dict(mb.state_dict(), mt.state_dict(), scores.top("blur", 5), 0.0)
    for k, v in saved_state_dict(out).items():
        assert torch.equal(v, want[k])


@pytest.mark.parametrize("args, message", [
    (["--lambda", "nan", "--degradation", "noise", "--ranking", "R"], "--lambda"),
    (["--lambda", "0.5", "--ranking", "R"], "--degradation"),
    (["--lambda", "0.5", "--degradation", "noise"], "--ranking"),
    (["--lambda", "0.5", "--degradation", "jpeg", "--ranking", "R"], "jpeg_index.txt"),
    (["--lambda", "0.5", "--degradation", "noise", "--ranking", "R", "--percent", "200"], "percent"),
    (["--lambda", "0.5", "--degradation", "fog", "--ranking", "R"], "unknown degradation 'fog'"),
])
def test_cli_modulate_bad_input_is_one_line(pair_and_ranking, tmp_path, capsys, args, message):
    b, t, folder = pair_and_ranking
    args = [str(folder) if a == "R" else a for a in args]
    with pytest.raises(SystemExit) as e:
        modulate_main(["--baseline", str(b), "--target", str(t), "--out", str(tmp_path / "x.pth"), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "\n".join(err)
    assert not (tmp_path / "x.pth").exists()


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


def test_cli_sweep_writes_one_ranking_per_checkpoint(tmp_path, capsys):
    b, exp = tiny_experiment(tmp_path, n=2)
    save_tiny_root(tiny_data(2), tmp_path / "root")
    args = ["rank", "--baseline", str(b), "--checkpoints", str(exp), "--dataset-root", str(tmp_path / "root"),
            "--steps", "4", "--quadrature", "riemann_left", "--out", str(tmp_path / "out")]
    main(args)
    assert "2 checkpoints (2 ranked, 0 already done)" in capsys.readouterr().err
    api = fl.sweeps.rank_checkpoints(b, exp, tmp_path / "root", tmp_path / "api", n_steps=4, quadrature="riemann_left",
                              progress=False)
    for stem in api.stems:
        for d in ("blur", "noise"):
            assert (tmp_path / "out" / stem / f"{d}_index.txt").read_text() == \
                (tmp_path / "api" / stem / f"{d}_index.txt").read_text()
    main(args)
    assert "2 checkpoints (0 ranked, 2 already done)" in capsys.readouterr().err


def test_cli_sweep_of_the_shipped_run_writes_one_ranking_per_checkpoint(tmp_path, capsys):
    """`rank --checkpoints` on the embedded experiment folder: one ranking per shipped checkpoint, per degradation
    of the pair's root (blur, noise, JPEG)."""
    sweep = fl.sweeps.embedded_sweep()
    stems = [p.stem for p in sorted((Path(sweep["checkpoints"]) / "models").glob("net_g_*.pth"))]
    small = fl.load_dataset(sweep["dataset_root"], limit=2).subset(size=12)  # the root's first images, cropped
    save_tiny_root(small, tmp_path / "root")
    main(["rank", "--baseline", str(sweep["baseline"]), "--checkpoints", str(sweep["checkpoints"]), "--dataset-root",
          str(tmp_path / "root"), "--degradations", "blur", "noise", "jpeg", "--steps", "2", "--quadrature",
          "riemann_middle", "--out", str(tmp_path / "out")])
    assert f"{len(stems)} checkpoints ({len(stems)} ranked, 0 already done)" in capsys.readouterr().err
    assert len(stems) >= 8
    n = len(fl.FilterIndex.from_module(fl.load_model(sweep["baseline"])))  # the shipped run's network
    for stem in stems:
        for d in ("blur", "noise", "jpeg"):
            order = [int(v) for v in (tmp_path / "out" / stem / f"{d}_index.txt").read_text().split()]
            assert sorted(order) == list(range(n))  # every filter, ranked once


@pytest.mark.parametrize("method", ["task_vector", "fisher", "mask"])
def test_the_localizers_rank_through_the_cli_as_the_api(method, tmp_path):
    b, t = tiny_pair(tmp_path)
    data = tiny_data(2)
    save_tiny_root(data, tmp_path / "root")
    out = tmp_path / method
    main(["rank", "--method", method, "--baseline", str(b), "--target", str(t), "--dataset-root",
          str(tmp_path / "root"), "--out", str(out)])
    api = fl.attribute(method, *fl.load_pair(b, t), fl.load_dataset(tmp_path / "root"), progress=False)
    got = fl.rankings.load_scores(out, method)
    for d in ("blur", "noise"):
        assert np.array_equal(got.ranking(d), api.ranking(d))
    assert method not in fl.methods.PAPER_METHODS and fl.METHODS[method].label and fl.METHODS[method].colour


def test_lam_cli_writes_the_figure_and_prints_di(tmp_path, capsys):
    from faig_helpers.__main__ import main
    from faig_helpers.images import write_image

    b, t = pair_paths("srresnet")
    lr = fl.load_dataset(DATASET_ROOT, clean=False).inputs["blur"][0][0, :, :24, :24].permute(1, 2, 0).numpy()
    gray = tmp_path / "gray.png"
    write_image(gray, lr.mean(axis=2))  # one channel: converted to RGB as everywhere
    rank = tmp_path / "rank"
    main(["rank", "--method", "random", "--baseline", str(b), "--target", str(t), "--degradations", "blur", "noise",
          "--out", str(rank)])
    main(["lam", "--model", str(t), "--baseline", str(b), "--ranking", str(rank), "--degradation", "blur",
          "--image", str(gray), "--box", "10", "12", "8", "--fold", "5", "--out", str(tmp_path / "m.png")])
    out = capsys.readouterr().out
    assert (tmp_path / "m.png").is_file() and "target: DI" in out and "substituted: DI" in out
    with pytest.raises(SystemExit) as e:
        main(["lam", "--model", str(t), "--image", str(gray), "--box", "40", "0", "16",
              "--out", str(tmp_path / "x.png")])
    assert e.value.code == 2 and "is not inside the 48×48 output" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("scale,arch", [(2, "srcnn"), (3, "srresnet"), (3, "srcnn"), (4, "srresnet")])
def test_every_step_at_any_scale(tmp_path, scale, arch):
    rng = np.random.default_rng(scale)
    for i in range(2):
        write_image(tmp_path / "hr" / f"{i}.png", rng.random((12 * scale + 1, 12 * scale + 2, 3)))
    main(["degrade", str(tmp_path / "hr"), str(tmp_path / "root"), "--scale", str(scale)])
    data = load_dataset(tmp_path / "root")
    assert data.scale == scale and data.gt[0].shape[-2:] == (12 * scale, 12 * scale + (2 if scale == 2 else 0))
    assert data.inputs["blur"][0].shape[-2] == 12 and data.gt[0].shape[-1] == scale * data.inputs["blur"][0].shape[-1]
    torch.manual_seed(0)
    make = (lambda: MSRResNet(num_feat=8, num_block=1, upscale=scale)) if arch == "srresnet" else \
        (lambda: SRCNNStyle((8, 8), upscale=scale))
    nets = [make(), make()]
    for i, n in enumerate(nets):
        save_checkpoint(tmp_path / f"{i}.pth", n.state_dict())
    baseline, target = load_pair(tmp_path / "0.pth", tmp_path / "1.pth")
    main(["rank", "--baseline", str(tmp_path / "0.pth"), "--target", str(tmp_path / "1.pth"), "--dataset-root",
          str(tmp_path / "root"), "--steps", "2", "--quadrature", "riemann_middle", "--out", str(tmp_path / "faig")])
    scores = load_scores(tmp_path / "faig", "faig")
    api = attribute("faig", baseline, target, data, n_steps=2, quadrature="riemann_middle", progress=False)
    assert np.array_equal(scores.ranking("blur"), api.ranking("blur"))
    table = compare(baseline, target, {"faig": api}, data, (0, 10), progress=False)
    assert (table[table.proportion == 0].output_difference == 0).all()
    assert set(quality_table({"t": target}, data).columns) == {"clean", "blurry", "noisy"}
    r = ModulationPanel(baseline, target, api, data, crop=8).update(0.0, "noise", 10, 1)
    assert r["output"].shape == r["target"].shape == r["input"].shape == (8 * scale, 8 * scale, 3)
