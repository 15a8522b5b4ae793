"""Set-up files stay consistent: environment.yml ⇔ pyproject.toml, constraints pin the CPU torch."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch", "opencv-python-headless": "opencv"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", req.strip())
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_yml_matches_pip_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_split(r) for r in meta["dependencies"] + meta["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    for name, spec in pip.items():
        cname = CONDA_NAMES.get(name, name)
        assert cname in conda, f"environment.yml lacks {cname} (pyproject: {name}{spec})"
        assert conda[cname] == spec, f"{cname}: environment.yml '{conda[cname]}' vs pyproject '{spec}'"
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n in pip} - {"python", "pip", "cpuonly"}
    assert not extra, f"environment.yml has packages pyproject.toml lacks: {extra}"
    assert env["dependencies"][-1] == {"pip": ["-e ."]}


def test_constraints_pin_the_cpu_torch_inside_the_metadata_range():
    pins = dict(_split(l) for l in (ROOT / "constraints.txt").read_text().splitlines()
                if l.strip() and not l.startswith("#"))
    assert pins["torch"] == "==2.13.0"
    assert "nvidia" not in " ".join(pins), "constraints must not pull CUDA wheels"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch>=2.1,<3" in meta["dependencies"]
