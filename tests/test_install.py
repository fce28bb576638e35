"""`pip install chainrule` gives a working `chainrule` command.

The fast tests read pyproject.toml: the small packages every README feature needs are
dependencies, version ranges admit today's releases, the licence is in the current SPDX
form with its file. The slow one (`make install-check`, or CHAINRULE_INSTALL_CHECK=1)
installs the source tree into a fresh virtual environment the plain way and uses the
command as a new user would: train, evaluate, predict, summary, a report, explain.
"""
import os
import pathlib
import subprocess
import sys
from importlib import metadata

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
README_NEEDS = ("numpy", "safetensors", "tqdm", "pillow", "matplotlib")


def requirement_names(requirements):
    return {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0]
            .split("!")[0].strip().lower() for r in requirements}


def test_every_readme_feature_needs_only_the_base_install():
    assert set(README_NEEDS) <= requirement_names(PROJECT["dependencies"])
    heavy = {"torch", "cupy-cuda12x", "mpi4py", "tensorboardx", "onnx"}
    assert not heavy & requirement_names(PROJECT["dependencies"])


def test_version_ranges_admit_the_installed_releases():
    """The releases installed here (the current ones when the ranges were written) satisfy
    every range: no `pillow<13` that shuts out today's Pillow."""
    from packaging.requirements import Requirement
    for text in PROJECT["dependencies"]:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), \
            f"{requirement} excludes the installed {installed}"


def test_licence_in_the_current_form():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "chainrule developers" in text
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # SPDX replaces it
    assert PROJECT["urls"] and PROJECT["scripts"]["chainrule"] == "chainrule.cli:main"


def test_optional_extras_are_the_heavy_ones():
    extras = PROJECT["optional-dependencies"]
    assert {"gpu", "tensorboard", "test", "bench"} <= set(extras)
    assert "torch==2.13.0" in extras["test"]


@pytest.mark.skipif(not os.environ.get("CHAINRULE_INSTALL_CHECK"),
                    reason="slow (a fresh venv): make install-check")
def test_a_plain_install_runs_what_the_readme_shows(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", str(ROOT)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    assert "deprecat" not in (pip.stdout + pip.stderr).lower()
    command = str(venv / "bin" / "chainrule")
    work = tmp_path / "work"
    work.mkdir()

    def run(*args):
        done = subprocess.run([command, *args], cwd=work, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
        return done.stdout

    assert "test accuracy" in run("train", "--epochs", "3", "--report")
    model = "runs/digits-mlp/model.safetensors"
    for name in ("model.safetensors", "best.safetensors", "run.toml", "metrics.csv",
                 "report.html"):
        assert (work / "runs" / "digits-mlp" / name).exists(), name
    assert "confusion matrix" in run("evaluate", model)
    assert "total" in run("summary", model)
    from PIL import Image
    Image.new("L", (8, 8)).save(work / "blank.png")
    assert "blank.png" in run("predict", model, "blank.png")
    assert "match" in run("explain", "chain")
    assert "picture written to" in run("explain", "descent", "--train-steps", "3")
    assert "picture written to" in run("explain", "lr", "--steps", "20")
    assert sorted(p.name for p in work.glob("*.png")) == ["blank.png"]  # pictures in runs/
    assert run("--version").startswith("chainrule ")
