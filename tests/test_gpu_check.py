"""benchmarks/gpu_check.py's CPU path (a tiny BERT): the script a first GPU machine runs cannot rot unnoticed.
Its numbers are not judged (no timing assertions): that every check runs and reports is. The checks run in
this process (seconds); the whole script, Trainer included, in the full tier."""

import importlib.util
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from tests.workspace import REPO

torch.set_num_threads(1)

TINY_RUN = ["--device", "cpu", "--tiny", "--threads", "1", "--stability-steps", "40", "--warmup", "2", "--steps", "4",
            "--batch-size", "16"]


def load_gpu_check():
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checks_on_the_cpu(tmp_path, capsys):
    g = load_gpu_check()
    data = g.examples(200)
    assert [len(data[t][1]) for t in g.TASKS] == [200] * 4
    g.write_tokens(data, tmp_path / "tokens", pad_id=0)
    tiny = g.write_config(tmp_path / "tiny", g.TINY)
    assert g.check_agreement(tmp_path / "tokens", tiny, "cpu", 3)
    assert g.check_bf16(tmp_path / "tokens", tiny, "cpu", 40)
    rate, peak_mb, device = g.run_ours(tmp_path / "tokens", tiny,
                                       SimpleNamespace(device="cpu", batch_size=16, warmup=1, steps=2))
    assert rate > 0 and peak_mb > 0 and device.type == "cpu"
    lines = capsys.readouterr().out.splitlines()
    # the same weights and batches on the same device: exactly equal
    assert lines[0] == ("agreement cpu vs cpu, tiny BERT, 3 fp32 steps: losses 0.00e+00 (<= 0.001), "
                        "gradients 0.00e+00 of the largest (<= 0.01): PASS")
    assert lines[1].startswith("bf16 autocast on cpu, tiny BERT, 40 steps: all losses finite True")
    assert lines[1].endswith(": PASS")


def test_model_flops_by_hand():
    g = load_gpu_check()
    sizes = dict(hidden_size=4, num_hidden_layers=2, num_attention_heads=1, intermediate_size=8)
    data = {"A": ({"input_ids": [[1, 2, 3], [1]]}, [0, 1])}
    # parameters: 2 x (4 x 16 + 2 x 32) + 16 = 272; per example 6 x 272 x n + 12 x 2 x 4 x n^2:
    # n = 3: 4896 + 864 = 5760, n = 1: 1632 + 96 = 1728; mean 3744
    assert g.model_flops_per_example(data, sizes) == 3744.0
    # BERT-base: 12 x (4 x 768^2 + 2 x 768 x 3072) + 768^2 = 85,524,480 parameters; one example of 128 tokens
    assert g.model_flops_per_example({"A": ({"input_ids": [[0] * 128]}, [0])}, g.BASE) == (
        6 * 85_524_480 * 128 + 12 * 12 * 768 * 128**2)


@pytest.mark.full
def test_the_whole_script_on_the_cpu():
    out = subprocess.run([sys.executable, "benchmarks/gpu_check.py", *TINY_RUN], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("agreement cpu vs cpu, tiny BERT, 5 fp32 steps: losses 0.00e+00")
    assert lines[1].startswith("bf16 autocast on cpu, tiny BERT, 40 steps: all losses finite True")
    assert lines[2].startswith("throughput, tiny BERT, batch 16, 4 steps after 2: bam train (fp32) ")
    assert "Trainer (group_by_length, sdpa, fp32)" in lines[2] and lines[2].endswith("x")
    assert lines[3].startswith("model FLOPs utilisation: n/a on cpu")
    assert lines[4].startswith("peak memory (process max RSS so far): bam train ")
    assert lines[5].startswith("gpu_check: all checks passed in ")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_gpu_check_refuses_without_a_gpu():
    out = subprocess.run([sys.executable, "benchmarks/gpu_check.py"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == "gpu_check: no CUDA GPU here (--device cpu --tiny runs the same code on the CPU)"
