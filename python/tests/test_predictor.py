"""nar.Predictor: nar's predictors fitted on architectures and accuracies a script gives them, scored,
saved and loaded back through nar.load (a nar.SavedPredictor, nar.Ranker before); and the same numbers as
the command line's runs."""

import csv

import numpy as np
import pytest

import nar

from conftest import ROOT, cli


def nb201_sample(n, seed=0):
    ds = nar.Dataset.nb201()
    val = ds.metric("cifar10_val_acc")
    idx = np.random.default_rng(seed).permutation(len(val))[:n]
    return [int(i) for i in idx], [float(val[i]) for i in idx], val


def kendall(a, b):
    # Kendall τ-b by counting pairs (small n only).
    a, b = np.asarray(a), np.asarray(b)
    s = np.sign(a[:, None] - a[None, :]) * np.sign(b[:, None] - b[None, :])
    return s.sum() / np.sqrt((np.sign(a[:, None] - a[None, :]) ** 2).sum() * (np.sign(b[:, None] - b[None, :]) ** 2).sum())


@pytest.mark.parametrize("mode", ["best", "forest", "gbdt-graph"])
def test_fit_predict_save_and_load_back(mode, tmp_path):
    idx, acc, val = nb201_sample(300)
    p = nar.Predictor(mode, space="nb201")
    assert "not fitted" in repr(p)
    p.fit(idx, acc)
    others = list(range(0, 15625, 37))
    scores = p.predict(others)
    assert scores.dtype == np.float64 and scores.shape == (len(others),)
    # Far above the parameter count's τ ≈ 0.53 on the rest of the space.
    assert kendall(scores, val[others]) > 0.65
    # numpy inputs work too; the same architectures as objects or strings score the same.
    q = nar.Predictor(mode, space="nb201")
    q.fit(np.array(idx), np.array(acc))
    assert np.array_equal(q.predict(np.array(others)), scores)
    archs = [nar.nb201(i) for i in others[:20]]
    assert np.array_equal(p.predict(archs), scores[:20])
    assert np.array_equal(p.predict([a.arch_str for a in archs]), scores[:20])
    out = tmp_path / "saved"
    p.save(out)
    r = nar.load(out)
    assert isinstance(r, nar.SavedPredictor) and nar.Ranker is nar.SavedPredictor
    assert r.model == p.model and r.space == "nb201" and r.task == r.dataset == "cifar10"
    assert repr(r).startswith(f"<nar.SavedPredictor {p.model} nb201 cifar10 from ")
    assert np.array_equal(r.predict(others), scores)
    assert np.array_equal(nar.Ranker.load(out).predict(others), scores)
    with pytest.raises(ValueError, match="predicts scores only"):
        r.predict_tiers([0])
    with pytest.raises(ValueError, match="not empty"):
        p.save(out)


def test_a_fit_is_deterministic_and_seeded():
    idx, acc, _ = nb201_sample(200, seed=1)
    a, b, c, d = (nar.Predictor("forest") for _ in range(4))
    a.fit(idx, acc, seed=5)
    b.fit(idx, acc, seed=5)
    c.fit(idx, acc, seed=6)
    d.fit(idx, (v for v in acc), seed=5)  # any iterable of accuracies
    x = list(range(500))
    assert np.array_equal(a.predict(x), b.predict(x))
    assert np.array_equal(a.predict(x), d.predict(x))
    assert not np.array_equal(a.predict(x), c.predict(x))


def test_the_transformer_fits_in_its_configured_split(tmp_path):
    cfg = tmp_path / "tiny.yaml"
    from conftest import tiny_config

    tiny_config(cfg)
    text = cfg.read_text().replace("ranker_epochs: 55", "ranker_epochs: 2")
    cfg.write_text(text)
    idx, acc, _ = nb201_sample(120, seed=2)
    p = nar.Predictor(str(cfg), space="nb201")
    assert p.model == "transformer"
    p.fit(idx, acc)
    s = p.predict(range(10))
    p.save(tmp_path / "t")
    assert np.array_equal(nar.Ranker.load(tmp_path / "t").predict(range(10)), s)


def test_nb101_predictor_on_the_sample():
    rows = list(csv.DictReader(open(ROOT / "data" / "nb101" / "nb101_subset_1k.csv")))
    import json

    cells = [nar.nb101(json.loads(r["module_adjacency"]), json.loads(r["module_operations"])) for r in rows]
    key = "avg_validation_accuracy" if "avg_validation_accuracy" in rows[0] else "val_acc_108ep"
    acc = [float(r[key]) for r in rows]
    p = nar.Predictor("best", space="nb101")
    p.fit(cells[:424], acc[:424])
    assert kendall(p.predict(cells[424:]), acc[424:]) > 0.6


def test_bad_predictor_input(tmp_path):
    with pytest.raises(ValueError, match="unknown mode \"grafs\""):
        nar.Predictor("grafs")
    with pytest.raises(ValueError, match="unknown space \"nb301\" \\(expected nb101, nb201 or an nar.Space\\)"):
        nar.Predictor("best", space="nb301")
    with pytest.raises(ValueError, match="only the cifar10 network"):
        nar.Predictor("best", space="nb101", dataset="cifar100")
    with pytest.raises(ValueError, match="only the cifar10 network"):
        nar.Predictor("best", space="nb101", task="cifar100")
    with pytest.raises(ValueError, match="nb201 has no task mnist; its tasks: cifar10, cifar100, imagenet16"):
        nar.Predictor("best", task="mnist")
    with pytest.raises(ValueError, match="give task= or its old name dataset=, not both"):
        nar.Predictor("best", task="cifar10", dataset="cifar10")
    # The task is the one the predictor reports, in nar's spelling (NAS-Bench-201's is read too).
    assert "imagenet16" in repr(nar.Predictor("forest", task="ImageNet16-120"))
    p = nar.Predictor("forest")
    with pytest.raises(ValueError, match="fit the predictor first"):
        p.predict([0])
    with pytest.raises(ValueError, match="fit the predictor first"):
        p.save(tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="at least 2 labelled architectures"):
        p.fit([0], [90.0])
    # Accuracies are numbers: any iterable of them (a generator too), never truth values.
    with pytest.raises(TypeError, match=r"accuracies\[1\] is True, not a number"):
        p.fit([0, 1], [90.0, True])
    with pytest.raises(TypeError, match=r"accuracies\[0\] is .*True.*, not a number"):
        p.fit([0, 1], np.array([True, False]))
    with pytest.raises(TypeError, match="accuracies must be an iterable of numbers"):
        p.fit([0, 1], 3.0)
    with pytest.raises(ValueError, match="accuracy 1 is not a finite number"):
        p.fit([0, 1, 2], [90.0, float("nan"), 80.0])
    with pytest.raises(ValueError, match="3 architectures but 2 accuracies"):
        p.fit([0, 1, 2], [90.0, 80.0])
    p.fit([0, 1, 2], [90.0, 85.0, 80.0])
    cell = nar.nb101([[0, 1], [0, 0]], ["input", "output"])
    with pytest.raises(ValueError):
        p.predict([cell])


def test_the_readme_predictor_example_runs_as_written(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python") :]
    blocks = section.split("```python\n")[1:3]
    first, second = (b[: b.index("```")] for b in blocks)
    assert "nar.Predictor" in second and second.count("\n") <= 6
    monkeypatch.chdir(tmp_path)
    env = {}
    exec(compile(first.split("def train_and_evaluate")[0], "README.md", "exec"), env)
    exec(compile(second, "README.md", "exec"), env)
    assert env["scores"].shape == (15625,)
    assert np.array_equal(nar.Ranker.load(tmp_path / "my-predictor").predict(range(15625)), env["scores"])
    _, _, val = nb201_sample(1)
    assert kendall(env["scores"][200::50], val[200::50]) > 0.7


def test_save_resolves_the_folder_before_the_never_overwrite_rule(tmp_path, monkeypatch):
    archs, acc, _ = nb201_sample(30)
    p = nar.Predictor("forest", space="nb201")
    p.fit(archs, acc)
    (tmp_path / "keep.txt").write_text("a user's file")
    monkeypatch.chdir(tmp_path)
    # `sub/../` names the current folder (not empty), `""` no folder: refused, nothing written.
    for out in ["sub/../", "./sub/.."]:
        with pytest.raises(ValueError, match="is not empty"):
            p.save(out)
    with pytest.raises(ValueError, match="an empty path names no folder"):
        p.save("")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        p.save("keep.txt")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "a user's file"


def test_a_missing_configuration_file_is_file_not_found(tmp_path):
    for path in [tmp_path / "missing.yaml", "/no/such/folder/config.yaml", "missing.yml"]:
        with pytest.raises(FileNotFoundError, match="no such configuration file"):
            nar.Predictor(str(path))
    with pytest.raises(ValueError, match='unknown mode "bestest"'):
        nar.Predictor("bestest")
