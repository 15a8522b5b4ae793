import inspect

import pytest

import faig_helpers.errors as errors
from faig_helpers.cli import main


def test_every_error_of_the_lab_is_one_base_class_and_a_value_error():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 9 and all(issubclass(c, errors.FaigLabError) for c in classes)
    assert issubclass(errors.FaigLabError, ValueError)  # code that catches ValueError keeps working
    assert set(errors.__all__) == {c.__name__ for c in classes}


def test_the_cli_turns_a_lab_error_into_one_line_and_a_non_zero_exit(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["rank", "--method", "task_vector", "--baseline", str(tmp_path / "missing.pth"),
              "--target", str(tmp_path / "t.pth"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert stop.value.code != 0 and "missing.pth" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith("error: ") and not (tmp_path / "out").exists()  # nothing written
