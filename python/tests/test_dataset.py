"""Datasets: the embedded table and built datasets equal the files in data/ and the command line."""

import csv
import json
import math

import numpy as np
import pytest

import nar
from conftest import DATA, cli


def test_embedded_nb201_table_equals_the_csv():
    ds = nar.Dataset.nb201()
    assert len(ds) == 15625 and ds.space == "nb201"
    assert "cifar10_val_acc" in ds.metrics and "imagenet16_test_acc" in ds.metrics
    with open(DATA / "nb201" / "nb201_accuracy.csv") as f:
        rows = list(csv.DictReader(f))
    val = ds.metric("cifar10_val_acc")
    test = ds.metric("cifar100_test_acc")
    assert val.dtype == np.float64 and val.shape == (15625,)
    for i in [0, 1, 777, 15624]:
        r = rows[i]
        assert int(r["index"]) == i
        assert ds.arch(i).arch_str == r["arch_str"] and ds.arch(i).index == i and ds.id(i) == str(i)
        assert val[i] == float(r["cifar10_valid_val_acc"])
        assert test[i] == float(r["cifar100_test_acc"])
    assert ds.arch(-1).index == 15624
    with pytest.raises(IndexError):
        ds.arch(15625)
    with pytest.raises(KeyError, match="no metric"):
        ds.metric("accuracy")


def test_built_nb101_dataset_has_the_sample(tmp_path):
    sample = DATA / "nb101" / "nb101_subset_1k.csv"
    ds = nar.Dataset.build("nb101", metrics=[sample])
    assert len(ds) == 423624 and ds.space == "nb101"
    val = ds.metric("val_acc_108ep")
    assert int(np.isfinite(val).sum()) == 1000
    with open(sample) as f:
        first = next(csv.DictReader(f))
    hashes = [ds.id(i) for i in np.flatnonzero(np.isfinite(val))]
    # Indexing is `arch`, negative positions counting from the end, past the end an IndexError.
    assert ds[5].hash == ds.arch(5).hash and ds[-1].hash == ds.arch(len(ds) - 1).hash
    with pytest.raises(IndexError, match="outside"):
        ds[len(ds)]
    assert first["unique_hash"] in hashes
    i = int(np.flatnonzero(np.isfinite(val))[hashes.index(first["unique_hash"])])
    assert ds.arch(i).hash == first["unique_hash"]
    assert math.isclose(val[i], float(first["val_acc_108ep"]), rel_tol=0, abs_tol=0)
    # The same dataset written by the command line and opened from Python.
    store = tmp_path / "nb101.nar"
    cli("data", "build", "--space", "nb101", "-m", str(sample), "-o", str(store))
    opened = nar.Dataset.open(store)
    assert len(opened) == len(ds) and opened.metrics == ds.metrics
    assert np.array_equal(opened.metric("val_acc_108ep"), val, equal_nan=True)


def test_bad_dataset_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.nar"):
        nar.Dataset.open(tmp_path / "missing.nar")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        nar.Dataset.build("nb201", metrics=[tmp_path / "missing.csv"])
    bad = tmp_path / "bad.nar"
    bad.write_bytes(b"not a store at all")
    with pytest.raises(ValueError, match="bad.nar"):
        nar.Dataset.open(bad)
    with pytest.raises(ValueError, match="nb301"):
        nar.Dataset.build("nb301")
    broken = tmp_path / "broken.csv"
    broken.write_text("index,cifar10_val_acc\n0,91.5\n1,abc\n")
    with pytest.raises(ValueError, match="broken.csv"):
        nar.Dataset.build("nb201", metrics=[broken])


def test_each_format_is_held_to_its_scale_and_fields(tmp_path):
    # NB201 tables hold percentages: a column of fractions is refused, naming file, record and field.
    fractions = tmp_path / "fractions.csv"
    fractions.write_text("index,cifar100_val_acc\n1,0.61\n2,0.62\n3,73.0\n")
    with pytest.raises(ValueError, match=r"fractions.csv: record 1 \(line 2\), field `cifar100_val_acc`: 0.61 is a fraction"):
        nar.Dataset.build("nb201", metrics=[fractions])
    # NAR's NB201 JSON: a misspelt field is an error, not a new metric.
    example = json.loads((DATA / "examples/nasbench201_vertice_example.json").read_text())
    example["0"]["cifar10_val_accc"] = example["0"].pop("cifar10_val_acc")
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps(example))
    with pytest.raises(ValueError, match="typo.json: record 0: unknown field `cifar10_val_accc`"):
        nar.Dataset.build("nb201", metrics=[typo])
