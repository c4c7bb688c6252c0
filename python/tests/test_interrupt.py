"""Ctrl-C stops a long call: training from Python ends after the current epoch with KeyboardInterrupt,
its checkpoint kept for `nar train --resume`."""

import signal
import subprocess
import sys
import time

from conftest import ROOT, tiny_config


def test_ctrl_c_stops_training_after_the_epoch(tmp_path):
    cfg = tiny_config(tmp_path / "tiny.yaml")
    out = tmp_path / "run"
    # Ctrl-C as in an interactive session: a runner that starts the tests with SIGINT ignored (a
    # background job) would otherwise pass that on, and Python would not raise KeyboardInterrupt at all.
    script = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        f"import nar; nar.train({str(cfg)!r}, 'nb201', {str(out)!r}, epochs=100000)"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, cwd=ROOT / "python" / "tests")
    lines = []
    for line in p.stderr:
        lines.append(line)
        if line.startswith("epoch   2"):
            break
    start = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        # Bounded: a lost signal fails the test instead of training 100,000 epochs.
        _, rest = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("Ctrl-C did not stop the training within 60 s")
    code = p.returncode
    assert time.monotonic() - start < 30
    assert code != 0
    assert "KeyboardInterrupt" in rest and "training stopped after epoch" in rest, rest
    assert "nar train --resume --out" in rest
    epochs = (out / "metrics.jsonl").read_text().splitlines()
    assert len(epochs) >= 2
    assert (out / "checkpoints").is_dir()
