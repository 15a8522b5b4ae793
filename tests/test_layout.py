from pathlib import Path

from faig_helpers.layout import OUTPUT_ENV, REPO, Layout, output_dirs


def test_an_explicit_folder_wins_over_the_environment_which_wins_over_the_repository(tmp_path, monkeypatch):
    monkeypatch.setenv(OUTPUT_ENV["results"], str(tmp_path / "env_results"))
    monkeypatch.delenv(OUTPUT_ENV["figures"], raising=False)
    assert output_dirs() == (tmp_path / "env_results", REPO / "figures")
    assert output_dirs(tmp_path / "r", tmp_path / "f") == (tmp_path / "r", tmp_path / "f")


def test_every_results_path_lies_below_the_results_folder(tmp_path):
    lay = Layout(tmp_path)
    paths = [lay.rankings("net", "data", "faig"), lay.cache, lay.masking("net", "data", "faig", 5, "m", "in"),
             lay.gradient("net", "data", "faig", None, "m", "in"), lay.metrics("net", "data"),
             lay.prediction("net", "data"), lay.sweep("net", "data"), lay.models, lay.bench]
    assert all(Path(p).is_relative_to(tmp_path) for p in paths)
    assert lay.rankings("net", "data", "faig") == tmp_path / "neuron-search" / "net" / "data" / "faig"
    assert lay.ranking_candidates("net", "data", "faig") == [  # ours first, then the original project's
        lay.rankings("net", "data", "faig"), tmp_path / "Interpret" / "neuron-search" / "net" / "data" / "faig"]
    assert lay.gradient("net", "data", "faig", None, "m", "in").parent.name == "targetmodel-sr"  # the target's own
    assert lay.masking("net", "data", "faig", 5, "m", "in").parts[-3:] == ("5kernels", "m", "in")
