"""Shared fixtures: the repository's data files, the `nar` command line built by `cargo build --release`
(its answers are what the package must equal), and one tiny trained run."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

import nar

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def cli_path() -> Path:
    exe = Path(os.environ.get("NAR_BIN", ROOT / "target" / "release" / "nar"))
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build the command line first (cargo build --release) or set NAR_BIN")
    return exe


def cli(*args: str) -> str:
    """Runs the nar command line; its standard output."""
    r = subprocess.run([str(cli_path()), *args], capture_output=True, text=True)
    assert r.returncode == 0, f"nar {' '.join(args)} failed: {r.stderr}"
    return r.stdout


def cli_json(*args: str):
    return json.loads(cli(*args))


def tiny_config(path: Path) -> Path:
    """NAR's NB201 reference configuration shrunk to a model that trains in seconds (the model and split
    sizes of the Rust tests' `tiny_config`), set on the parsed configuration's fields: a key that is not
    there fails."""
    cfg = yaml.safe_load((ROOT / "configs" / "nb201.yaml").read_text())
    sizes = {
        "d_patch_vec": 16,
        "d_model": 16,
        "d_ffn_inner": 32,
        "n_layers": 1,
        "d_k": 8,
        "d_v": 8,
        "d_tier_prj_inner": 16,
        "d_val_acc_prj_inner": 16,
    }
    for section, values in [
        (cfg["ranker"], sizes),
        (cfg, {"train_size": 250, "val_size": 100, "train_batch_size": 50, "val_batch_size": 50}),
    ]:
        for key, value in values.items():
            assert key in section, key
            section[key] = value
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run trained from Python on the embedded NB201 table, evaluated by the command line with tiers."""
    d = tmp_path_factory.mktemp("run")
    cfg = tiny_config(d / "tiny.yaml")
    out = d / "run"
    summary = nar.train(str(cfg), nar.Dataset.nb201(), out, epochs=2)
    assert summary["epochs"] == 2 and Path(summary["run_dir"]) == out
    cli("eval", str(out), "--tiers")
    return out


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run the every-architecture checks (minutes)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: an every-architecture check, run with --run-slow")


def pytest_collection_modifyitems(config, items):
    """Without --run-slow the every-architecture checks are deselected (pytest reports how many), not
    skipped: they are not part of the suite's run, and their result is stated where they were run."""
    if config.getoption("--run-slow"):
        return
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if "slow" not in item.keywords]
