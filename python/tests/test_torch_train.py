"""The training oracle, `python -m nar.torch.train`, and `nar.torch.train` on a tiny synthetic image set
(written by the tests; no test downloads a dataset): the loss falls, the printed accuracy is the one
computed, an interrupted training resumes to the same numbers, bad input is an error without a traceback."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

import nar
import nar.torch as nt
from conftest import cli_path
from nar.torch import data, recipes, training
from nar.torch.train import main

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


def write_images(root: Path, per_class: dict, classes: int = 10, side: int = 32, seed: int = 0) -> Path:
    """An image folder whose classes differ in colour (learnable in a few steps), with noise."""
    rng = np.random.default_rng(seed)
    for part, n in per_class.items():
        for c in range(classes):
            d = root / part / f"class{c:03d}"
            d.mkdir(parents=True)
            for i in range(n):
                pixels = np.full((side, side, 3), 20 * (c % 10), np.int64)
                pixels[..., c % 3] += 60
                pixels += rng.integers(0, 50, (side, side, 3))
                Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(d / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return write_images(tmp_path_factory.mktemp("images"), {"train": 12, "val": 4})


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nar.torch.train", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def checkpoint_of(ck_dir: Path) -> Path:
    (path,) = [p for p in ck_dir.iterdir() if p.suffix == ".pt"]
    return path


def losses(stderr: str) -> list:
    return [float(line.split("loss ")[1].split()[0]) for line in stderr.splitlines() if line.startswith("epoch ")]


def test_training_lowers_the_loss_and_prints_the_accuracy_it_computed(images, tmp_path):
    r = run(ARCH, "--space", "nb201", "--data-dir", images, "--epochs", 4, "--checkpoint-dir", tmp_path / "ck",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    printed = float(r.stdout.strip().splitlines()[-1])
    assert len(losses(r.stderr)) == 4 and losses(r.stderr)[-1] < losses(r.stderr)[0], r.stderr
    # The printed accuracy is the trained network's on the validation folder, computed here anew.
    ckpt = checkpoint_of(tmp_path / "ck")
    index = nar.nb201(ARCH).index
    assert ckpt.name == f"nb201-cifar10-{index}-seed0-4ep.pt"
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 4 and state["meta"]["arch"] == ARCH
    net = nt.network(ARCH)
    net.load_state_dict(state["model"])
    from torchvision.datasets import ImageFolder

    val = ImageFolder(str(images / "val"), transform=data.transforms_for(recipes.NB201["cifar10"], 32, "nb201", False))
    correct = sum(int(net.eval()(x).argmax(1).eq(y).sum()) for x, y in DataLoader(val, batch_size=7))
    assert printed == 100.0 * correct / len(val) == state["history"][-1]["val_accuracy"]
    # A finished checkpoint answers at once, the same number, without training.
    again = run(ARCH, "--space", "nb201", "--data-dir", images, "--epochs", 4, "--checkpoint-dir", tmp_path / "ck",
                cwd=tmp_path)
    assert again.returncode == 0 and float(again.stdout.strip()) == printed
    assert "4 of 4 epochs done" in again.stderr and not losses(again.stderr)


def test_an_interrupted_training_resumes_to_the_numbers_of_one_straight_through(images, tmp_path):
    args = [ARCH, "--space", "nb201", "--data-dir", images, "--epochs", 6, "--seed", 7]
    straight = run(*args, "--checkpoint-dir", tmp_path / "a", cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr
    cmd = [sys.executable, "-m", "nar.torch.train", *map(str, args), "--checkpoint-dir", str(tmp_path / "b")]
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (tmp_path / "b").is_dir() or not any(f.suffix == ".pt" for f in (tmp_path / "b").iterdir()):
        assert p.poll() is None and time.time() < deadline, "the training ended before its first checkpoint"
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 130, err
    assert "interrupted" in err and "resumes with the same command" in err and "Traceback" not in err
    assert out == ""
    ckpt = checkpoint_of(tmp_path / "b")
    done = torch.load(ckpt, weights_only=True)["epoch"]
    assert 1 <= done < 6
    assert [f.name for f in (tmp_path / "b").iterdir()] == [ckpt.name]  # no temporary file left
    resumed = run(*args, "--checkpoint-dir", tmp_path / "b", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} of 6 epochs done" in resumed.stderr
    assert resumed.stdout == straight.stdout
    a = torch.load(checkpoint_of(tmp_path / "a"), weights_only=True)
    b = torch.load(ckpt, weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]


def folder_loaders(images: Path):
    sets = data.images("nb201", "cifar10", images, recipes.NB201["cifar10"], 32, 10)
    return data.loaders(sets, recipes.NB201["cifar10"])


def test_the_same_seed_gives_the_same_numbers(images):
    runs = [nt.train(ARCH, *folder_loaders(images), epochs=2, seed=3, log=None) for _ in range(2)]
    assert runs[0].history[0]["loss"] > 0 and runs[0].val_accuracy == runs[1].val_accuracy
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]
    a, b = (r.model.state_dict() for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)


def main_says(args, capsys) -> tuple:
    """`python -m nar.torch.train ARGS` run in this process: its status, standard output and error."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as e:
        status = e.code
    out = capsys.readouterr()
    return status, out.out, out.err


def test_bad_input_is_an_error_without_a_traceback(images, tmp_path, capsys):
    small = write_images(tmp_path / "small", {"train": 1, "val": 1}, side=16)
    few = write_images(tmp_path / "few", {"train": 1, "val": 1}, classes=3)
    # Validation classes named otherwise than the training classes (labels follow the names).
    renamed = write_images(tmp_path / "renamed", {"train": 1, "val": 1})
    (renamed / "val" / "class009").rename(renamed / "val" / "class999")
    # An image whose data is cut short (its header reads fine).
    cut = write_images(tmp_path / "cut", {"train": 1, "val": 1})
    whole = (cut / "train" / "class004" / "0.png").read_bytes()
    (cut / "train" / "class004" / "0.png").unlink()
    (cut / "train" / "class004" / "truncated.png").write_bytes(whole[: len(whole) // 2])
    cell = json.dumps({"module_adjacency": [[0, 1], [0, 0]], "module_operations": ["input", "output"]})
    cases = [
        (["|nor_conv_9x9~0|+|", "--space", "nb201", "--data-dir", images], 2, "ARCH"),
        (["99999", "--space", "nb201", "--data-dir", images], 2, "ARCH"),
        (["\u0661\u0662", "--space", "nb201", "--data-dir", images], 2, "ARCH '\u0661\u0662'"),
        ([ARCH, "--space", "nb201", "--dataset", "mnist", "--data-dir", images], 2, "--dataset mnist: cifar10, cifar100 or imagenet16"),
        ([ARCH, "--space", "nb301", "--data-dir", images], 2, "--space nb301: nb201, nb101, or a declaration FILE.yaml"),
        ([ARCH, "--space", "nb201", "--ops-module", "x", "--data-dir", images], 2, "--ops-module registers ops of a declared space"),
        (["{not json", "--space", "nb101", "--data-dir", images], 2, "not JSON"),
        ([cell, "--space", "nb101", "--dataset", "cifar100", "--data-dir", images], 2, "nb101 was trained on cifar10"),
        ([ARCH, "--space", "nb201", "--data-dir", images, "--epochs", "0"], 2, "at least 1"),
        ([ARCH, "--space", "nb201", "--data-dir", tmp_path / "nowhere"], 1, "no such data directory"),
        ([ARCH, "--space", "nb201", "--data-dir", small], 1, "the network takes 32×32 images"),
        ([ARCH, "--space", "nb201", "--data-dir", few], 1, "has 3 classes; the network of this dataset has 10"),
        ([ARCH, "--space", "nb201", "--dataset", "imagenet16", "--data-dir", tmp_path], 1, "image folder"),
        ([ARCH, "--space", "nb201", "--data-dir", images, "--split-file", tmp_path / "s.txt"], 1, "CIFAR files"),
        ([ARCH, "--space", "nb201", "--data-dir", images, "--threads", 100_000], 2, "--threads must be 1 to"),
        ([ARCH, "--space", "nb201", "--data-dir", images, "--seed", 2**70], 2, "--seed must be 0 … 2**63 − 1"),
        ([ARCH, "--space", "nb201", "--data-dir", images, "--seed", -1], 2, "--seed must be 0 … 2**63 − 1"),
        ([ARCH, "--space", "nb201", "--data-dir", renamed], 1, "classes are not"),
        ([ARCH, "--space", "nb201", "--data-dir", cut], 1, "truncated.png: not an image"),
    ]
    if not torch.cuda.is_available():
        cases.append(([ARCH, "--space", "nb201", "--data-dir", images, "--device", "cuda"], 1, "no CUDA device"))
    for args, status, message in cases:
        extra = [] if "--epochs" in args else ["--epochs", 1]
        code, out, err = main_says([*args, *extra, "--checkpoint-dir", tmp_path / "ck"], capsys)
        assert code == status and message in err, (args, code, err)
        assert "Traceback" not in err and out == "", (args, err)
    # A checkpoint folder that is a file is said before anything is read.
    (tmp_path / "a-file").write_text("x")
    code, _, err = main_says([ARCH, "--space", "nb201", "--data-dir", images, "--checkpoint-dir", tmp_path / "a-file"], capsys)
    assert code == 2 and "is a file, not a folder" in err, err
    # One run as the command, for its exit status as a process.
    r = run("99999", "--space", "nb201", "--data-dir", images, cwd=tmp_path)
    assert r.returncode == 2 and "ARCH '99999'" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_damaged_or_foreign_checkpoint_is_refused_and_left_alone(images, tmp_path, capsys):
    index = nar.nb201(ARCH).index
    ck = tmp_path / "ck"
    ck.mkdir()
    path = ck / f"nb201-cifar10-{index}-seed0-1ep.pt"
    path.write_bytes(b"PK\x03\x04 half a zip")
    args = [ARCH, "--space", "nb201", "--data-dir", images, "--epochs", 1, "--checkpoint-dir", ck]
    code, _, err = main_says(args, capsys)
    assert code == 1 and "not a readable checkpoint" in err and "Traceback" not in err, err
    assert path.read_bytes() == b"PK\x03\x04 half a zip"
    # Another architecture's finished checkpoint under this one's name is another training.
    code, _, err = main_says([0, *args[1:-1], tmp_path / "o"], capsys)
    assert code == 0, err
    checkpoint_of(tmp_path / "o").replace(path)
    code, _, err = main_says(args, capsys)
    assert code == 1 and "is the checkpoint of another training: arch" in err, err
    # This training's own checkpoint, damaged or edited: a weight changed under its checksum, an epoch
    # past the training's, a missing epoch.
    path.unlink()
    code, _, err = main_says(args, capsys)
    assert code == 0, err
    good = torch.load(path, weights_only=True)
    assert good["weights_sha256"] == training.weights_sha256(good)
    key = next(k for k, v in good["model"].items() if v.is_floating_point())
    for edit, says in [
        (lambda s: s["model"][key].view(-1).__setitem__(0, 1e3), "do not match their checksum"),
        (lambda s: s.__setitem__("epoch", 7), "its epoch 7 is not one of 0 … 1"),
        (lambda s: s.pop("epoch"), "its epoch None is not one of 0 … 1"),
        (lambda s: s.__setitem__("history", "x"), "its history is not one record per epoch done"),
    ]:
        state = torch.load(path, weights_only=True)
        edit(state)
        bad = tmp_path / "bad"
        bad.mkdir(exist_ok=True)
        torch.save(state, bad / path.name)
        code, _, err = main_says([*args[:-1], bad], capsys)
        assert code == 1 and says in err and "Traceback" not in err, (says, err)


def tensor_loaders(classes: int, n: int, side: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(n, 3, side, side, generator=g) * 0.2 + (y.float() / classes)[:, None, None, None]
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), DataLoader(TensorDataset(x, y), batch_size=8)


def test_the_function_trains_from_any_loaders_and_returns_the_network():
    train, val = tensor_loaders(10, 32, 32, 0)
    result = nt.train(ARCH, train, val, epochs=2, seed=1, log=None)
    assert (result.space, result.arch, result.epochs, result.resumed_at) == ("nb201", ARCH, 2, 0)
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert result.val_accuracy == training.evaluate(result.model, val, "cpu")
    with pytest.raises(TypeError, match="epochs must be an integer, not float"):
        nt.train(ARCH, train, val, epochs=1.7, log=None)
    with pytest.raises(ValueError, match="seed must be 0 … 2\\*\\*63 − 1"):
        nt.train(ARCH, train, val, epochs=1, seed=2**70, log=None)
    # Validation labels outside the network's classes are an error, not a wrong answer counted.
    x, y = next(iter(val))
    far = DataLoader(TensorDataset(x, y + 10), batch_size=8)
    with pytest.raises(ValueError, match="a validation label is 1[0-9]: the network has 10 classes"):
        training.evaluate(result.model, far, "cpu")
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        nt.train(ARCH, train, val, epochs=0, log=None)


def test_an_nb101_network_trains_with_tensorflows_rmsprop():
    cell = nar.nb101([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                     ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    train, val = tensor_loaders(10, 16, 32, 2)
    result = nt.train(cell, train, val, epochs=1, log=None)
    assert result.space == "nb101" and np.isfinite(result.history[0]["loss"])
    # NAS-Bench-101's rate is 0 at its first step and follows the cosine by step.
    steps = len(train)
    assert recipes.NB101.lr_at(0, 0, steps, 108) == 0.0
    assert recipes.NB101.lr_at(0, 1, steps, 108) == pytest.approx(0.1 * (1 + np.cos(np.pi / (108 * steps))))


def test_tensorflows_rmsprop_step_by_hand():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = recipes.TFRMSprop([w], lr=0.5, momentum=0.9, weight_decay=0.1)
    ms, mom, value = np.ones(2), np.zeros(2), np.array([1.0, -2.0])
    for grad in ([0.3, 0.4], [-0.2, 0.1]):
        w.grad = torch.tensor(grad)
        opt.step()
        g = np.array(grad) + 0.1 * value
        ms = 0.9 * ms + 0.1 * g * g
        mom = 0.9 * mom + 0.5 * g / np.sqrt(ms + 1.0)
        value = value - mom
        assert np.allclose(w.detach().numpy(), value, atol=1e-6)


def test_nar_search_trains_each_query_through_the_oracle(images, tmp_path):
    journal = tmp_path / "journal.jsonl"
    oracle = (f"{sys.executable} -m nar.torch.train {{arch}} --space nb201 --data-dir {images} --epochs 1 "
              f"--checkpoint-dir {tmp_path / 'ck'}")
    r = subprocess.run([str(cli_path()), "search", "--space", "nb201", "--method", "random", "--budget", "2",
                        "--seeds", "1", "--oracle-cmd", oracle, "--journal", str(journal)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    header, *entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert header == {"nar_journal": 1, "space": "nb201", "dataset": "cifar10", "command": oracle}
    assert len(entries) == 2
    for e in entries:
        ckpt = tmp_path / "ck" / f"nb201-cifar10-{e['id']}-seed0-1ep.pt"
        assert e["val"] == torch.load(ckpt, weights_only=True)["history"][-1]["val_accuracy"]
        assert e["arch"] == nar.nb201(int(e["id"])).arch_str
