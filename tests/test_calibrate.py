"""`bam calibrate` on a tiny encoder and tiny data: what it measures and how a step time is read off."""

import json

import numpy as np
import pytest

from bam_core.io import parquet_metadata, read_json
from bam_core.method.calibrate import fitted_step_seconds, main
from tests.tiny_data import write_tiny_config, write_tiny_tokens


def test_step_time_at_the_epochs_mean_padded_size():
    seconds, tokens = np.array([1.0, 2.0, 3.0]), np.array([100, 200, 300])
    assert fitted_step_seconds(seconds, tokens, 250.0) == pytest.approx(2.5)  # 0.01 s per padded token
    assert fitted_step_seconds(np.array([1.0, 3.0]), np.array([64, 64]), 999.0) == 2.0  # one width: the mean
    assert fitted_step_seconds(seconds, tokens, 0.0) == 1.0  # never below the fastest step timed


def test_calibration_of_tiny_units(tmp_path):
    tokens = write_tiny_tokens(tmp_path / "tokens", tasks=("MRPC", "RTE"))
    units = [{"tasks": ["MRPC"], "batch_size": 8, "batching": "mixed", "sampling_exponent": 1.0, "double_unordered": True},
             {"tasks": ["MRPC", "RTE"], "batch_size": 16, "batching": "bucketed", "sampling_exponent": 0.75, "double_unordered": False}]
    spec = {"mode": "multi", "encoder": {"name": "tiny"}, "tasks": ["MRPC", "RTE"], "tokens_dir": str(tokens),
            "init": {"kind": "config", "path": str(write_tiny_config(tmp_path / "encoder"))},
            "max_seq_length": 64, "device": "cpu", "precision": "auto", "num_threads": 1, "dropout": 0.1,
            "regression_head": "sigmoid", "loss_reduction": "sum", "resources": {"gpu": 0, "cpus_per_task": 1},
            "units": units, "eval": [{"task": "MRPC", "eval_batch_size": 32}, {"task": "RTE", "eval_batch_size": 32}],
            "warmup_steps": 2, "steps": 4}
    out = tmp_path / "multi.json"
    assert main(["--spec-json", json.dumps(spec), "--out", str(out)]) == 0
    result = read_json(out)
    assert result["spec"] == spec and result["device"] == "cpu"
    written = {t: {s: parquet_metadata(tokens / t / f"{s}.parquet")["bam.fingerprint"] for s in ("train", "dev", "test")}
               for t in ("MRPC", "RTE")}
    assert result["fingerprints"] == written
    assert [{k: u[k] for k in units[0]} for u in result["units"]] == units
    assert all(u["step_seconds"] > 0 for u in result["units"])
    assert [e["task"] for e in result["eval"]] == ["MRPC", "RTE"]
    assert set(result["eval"][0]["seconds_per_example"]) == {"train", "dev", "test"}
    assert result["startup_seconds"] > 0 and result["first_use_seconds"] >= 0 and set(result["load_seconds"]) == {"MRPC", "RTE"}



def test_prediction_is_timed_on_samples_after_a_few_warm_up_batches(tmp_path, monkeypatch):
    """Dev of 3,000 rows: 4 batches of 8 warm up, then 2,048 sampled rows of each split are timed (all 40 of
    test, all of a train smaller than the sample); never the whole dev split, which costs minutes on MNLI."""
    from bam_core.method import calibrate
    from bam_core.method.batches import load_split
    from tests.tiny_data import SIZES

    tokens = write_tiny_tokens(tmp_path / "tokens", tasks=("RTE",), dev=3000)
    data = {"RTE": {s: load_split(tokens, "RTE", s, 64) for s in ("train", "dev", "test")}}
    predicted = []
    monkeypatch.setattr(calibrate, "predict", lambda model, split, *args: predicted.append(split.idx.copy()))
    rates = calibrate.eval_seconds_per_example(None, data, "RTE", 8, calibrate.torch.device("cpu"), None)
    assert [len(rows) for rows in predicted] == [32, min(SIZES["RTE"], 2048), 2048, 40]
    assert all(np.all(np.diff(rows) > 0) for rows in predicted)  # distinct rows, in the split's order
    assert set(predicted[2]) < set(data["RTE"]["dev"].idx)
    assert set(rates) == {"train", "dev", "test"}
