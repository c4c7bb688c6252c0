"""A trained ranker from Python: scores and tiers equal the command line's to the last bit, the weights
load into the reference PyTorch structure, bad input raises."""

import csv
import importlib.util

import numpy as np
import pytest

import nar
from conftest import ROOT, cli


def predictions(run):
    with open(run / "predictions.csv") as f:
        return list(csv.DictReader(f))


def test_predict_equals_nar_eval(tiny_run):
    r = nar.Ranker.load(tiny_run)
    assert r.space == "nb201" and r.dataset == "cifar10"
    rows = predictions(tiny_run)
    assert len(rows) == 15275
    ds = nar.Dataset.nb201()
    archs = [ds.arch(int(row["position"])) for row in rows]
    scores = r.predict(archs)
    assert scores.dtype == np.float64
    # nar eval wrote each f32 score widened to f64 in its shortest form: equal to the last bit.
    assert np.array_equal(scores, np.array([float(row["score"]) for row in rows]))
    tiers = r.predict_tiers(archs)
    assert np.array_equal(tiers, np.array([int(row["predicted_tier"]) + 1 for row in rows]))
    # Strings and indices work for NB201.
    assert np.array_equal(r.predict([a.arch_str for a in archs[:50]]), scores[:50])
    assert np.array_equal(r.predict([a.index for a in archs[:50]]), scores[:50])
    assert r.predict([]).shape == (0,)


def test_predict_equals_nar_rank(tiny_run, tmp_path):
    out = tmp_path / "ranking.csv"
    cli("rank", str(tiny_run), "-o", str(out))
    with open(out) as f:
        rows = list(csv.DictReader(f))
    scores = nar.Ranker.load(tiny_run, checkpoint="best").predict(range(15625))
    assert len(rows) == 15625
    assert np.array_equal(np.array([f"{s:.6f}" for s in scores]), np.array([row["predicted_score"] for row in rows]))


def test_state_dict_has_the_reference_names_and_shapes(tiny_run):
    sd = nar.Ranker.load(tiny_run).state_dict()
    assert sd["src_prj.weight"].shape == (16, 16) and sd["src_prj.weight"].dtype == np.float32
    assert sd["encoder.layer_stack.0.slf_attn.w_qs.weight"].shape == (32, 16)
    assert sd["val_acc_prj.0.weight"].shape == (16, 31 * 16)
    assert sd["tier_prj.2.bias"].shape == (5,)
    assert "tier_prj.0.bias" not in sd
    # The buffers PyTorch's state_dict() has: the sinusoid tables, sin on even columns, cos on odd.
    for stack in ("encoder", "decoder"):
        table = sd[f"{stack}.position_enc.pos_table"]
        assert table.shape == (1, 200, 16) and table.dtype == np.float32
        pos, j = 3, np.arange(16)
        angle = pos / np.power(10000.0, 2 * (j // 2) / 16)
        expected = np.where(j % 2 == 0, np.sin(angle), np.cos(angle)).astype(np.float32)
        assert np.allclose(table[0, pos], expected, rtol=0, atol=1e-7)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed: pip install torch")
def test_checkpoint_loads_into_the_pytorch_reference_structure(tiny_run):
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "bench"))
    import torch_ranker

    r = nar.Ranker.load(tiny_run)
    model = torch_ranker.Ranker(31, 4, 16, 4, 8, 32, 16, 16, layers=1)
    missing = model.load_state_dict({k: torch.from_numpy(v) for k, v in r.state_dict().items()}, strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    model.eval()
    archs = [nar.nb201(i) for i in range(0, 15625, 97)]
    x = torch.from_numpy(np.stack([a.encode() for a in archs]).reshape(len(archs), 31, 16))
    with torch.no_grad():
        ours = model.score(x).numpy()
    assert np.allclose(ours, r.predict(archs), rtol=1e-4, atol=1e-4)


def test_bad_ranker_input(tiny_run, tmp_path):
    with pytest.raises(ValueError, match="nothing"):
        nar.Ranker.load(tmp_path / "nothing")
    with pytest.raises(ValueError, match="checkpoint"):
        nar.Ranker.load(tiny_run, checkpoint="middle")
    r = nar.Ranker.load(tiny_run)
    with pytest.raises(ValueError, match="architecture 1"):
        r.predict([0, "junk"])
    cell = nar.nb101([[0, 1], [0, 0]], ["input", "output"])
    with pytest.raises(ValueError, match="NB101"):
        r.predict([cell])


def test_a_tree_run_predicts_scores_from_python(tmp_path):
    out = tmp_path / "trees"
    summary = nar.train(str(ROOT / "configs" / "nb201-gbdt.yaml"), nar.Dataset.nb201(), out, budget=300)
    assert summary["epochs"] == 0 and 0.0 < summary["fit_kendall"] <= 1.0
    ranking = tmp_path / "ranking.csv"
    cli("rank", str(out), "-o", str(ranking))
    with open(ranking) as f:
        rows = list(csv.DictReader(f))
    r = nar.Ranker.load(out)
    scores = r.predict(range(15625))
    assert np.array_equal(np.array([f"{s:.6f}" for s in scores]), np.array([row["predicted_score"] for row in rows]))
    with pytest.raises(ValueError, match="predicts scores only"):
        r.predict_tiers([0])
    with pytest.raises(ValueError, match="predicts scores only"):
        r.state_dict()


@pytest.mark.parametrize(
    "space,config",
    [("nb201", "nb201-forest.yaml"), ("nb201", "nb201-best.yaml"), ("nb101", "nb101-forest.yaml"), ("nb101", "nb101-best.yaml")],
)
def test_every_tree_run_reloads_in_python_with_nar_evals_scores(space, config, tmp_path):
    if space == "nb201":
        data, budget = nar.Dataset.nb201(), 200
    else:
        data = tmp_path / "nb101.nar"
        cli("data", "build", "--space", "nb101", "-m", str(ROOT / "data" / "nb101" / "nb101_subset_1k.csv"), "-o", str(data))
        data, budget = str(data), 424
    out = tmp_path / "run"
    nar.train(str(ROOT / "configs" / config), data, out, budget=budget)
    cli("eval", str(out))
    rows = predictions(out)
    r = nar.Ranker.load(out)
    assert r.space == space and r.model in ("forest", "gbdt", "ensemble")
    ds = nar.Dataset.open(str(out / "dataset.nar")) if space == "nb201" else nar.Dataset.open(data)
    archs = [ds.arch(int(row["position"])) for row in rows]
    assert np.array_equal(r.predict(archs), np.array([float(row["score"]) for row in rows]))
