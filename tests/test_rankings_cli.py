import numpy as np
import pytest

from faig_helpers.__main__ import main
from faig_helpers.attribution import FAIG
from faig_helpers.checkpoint import load_pair
from faig_helpers.rankings import RankingError, load_ranking, load_rankings, ranking_dir, save_rankings

from helpers import save_tiny_root, tiny_data, tiny_pair


def test_original_format_loads_unchanged(tmp_path):
    perm = np.random.default_rng(0).permutation(50)
    np.savetxt(tmp_path / "blur_index.txt", perm, delimiter=",", fmt="%d")  # how the original wrote them
    np.savetxt(tmp_path / "noise_index.txt", perm[::-1], delimiter=",", fmt="%d")
    r = load_rankings(tmp_path, 50)
    assert np.array_equal(r["blur"], perm) and np.array_equal(r["noise"], perm[::-1])


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


def test_cli_reproduces_the_api_ranking(tmp_path, capsys):
    b, t = tiny_pair(tmp_path)
    data = tiny_data(2)
    save_tiny_root(data, tmp_path / "root")
    from faig_helpers.degradations import load_dataset
    on_disk = load_dataset(tmp_path / "root")
    out = ranking_dir(tmp_path / "results", "srresnet", "tiny", "faig")
    main(["rank", "--method", "faig", "--baseline", str(b), "--target", str(t), "--dataset-root",
          str(tmp_path / "root"), "--steps", "6", "--quadrature", "riemann_left", "--out", str(out)])
    api = FAIG(*load_pair(b, t)).attribute(on_disk, n_steps=6, method="riemann_left", progress=False)
    got = load_rankings(out)
    assert np.array_equal(got["blur"], api.blur_index) and np.array_equal(got["noise"], api.noise_index)
    assert np.allclose(np.load(out / "blur_score.npy"), api.blur)
    for method in ("ig", "abs_filter_change", "random"):
        main(["rank", "--method", method, "--baseline", str(b), "--target", str(t), "--dataset-root",
              str(tmp_path / "root"), "--steps", "4", "--out", str(tmp_path / method)])
        assert len(load_rankings(tmp_path / method)["blur"]) == len(api.blur)


def test_cli_bad_input_is_one_clear_line(tmp_path, capsys):
    b, t = tiny_pair(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["rank", "--baseline", str(b), "--target", str(tmp_path / "nope.pth"), "--dataset-root", str(tmp_path),
              "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "nope.pth: no such checkpoint file" in capsys.readouterr().err


def test_save_rankings_round_trip(tmp_path):
    from faig_helpers.attribution import FilterScores
    s = FilterScores("x", np.array([0.1, 0.5, 0.3]), np.array([0.3, 0.2, 0.1]))
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
            "--dataset-root", str(tmp_path / "root"), "--steps", "150", "--quadrature", "riemann_left",
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
