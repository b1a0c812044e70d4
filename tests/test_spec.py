import json

import pytest

from bam_core.errors import BamError
from bam_core.method.spec import RunSpec, load_spec, spec_from_dict

BASE = {"tasks": ["RTE"], "tokens_dir": "t", "output_dir": "o", "resume_dir": "r",
        "init": {"kind": "config", "path": "enc"}}


def test_defaults_are_the_paper_multi_task_settings():
    spec = spec_from_dict(BASE)
    assert (spec.lr, spec.layerwise_lr_decay, spec.batch_size, spec.epochs) == (1e-4, 0.9, 128, 6)
    assert (spec.sampling_exponent, spec.annealing, spec.loss_reduction, spec.regression_head) == \
        (0.75, "linear", "sum", "sigmoid")
    assert (spec.adam_bias_correction, spec.lr_schedule) == (False, "reference")  # the reference code's
    assert spec_from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("change, message", [
    ({"lr2": 1}, "run spec: unknown key 'lr2'"),
    ({"lr": "fast"}, "run spec: key 'lr' has the wrong type (str: 'fast')"),
    ({"batch_size": 1.5}, "run spec: key 'batch_size' has the wrong type (float: 1.5)"),
    ({"mode": "both"}, "run spec: key 'mode' must be one of single, multi, not 'both'"),
    ({"lr_schedule": "cosine"}, ("run spec: key 'lr_schedule' must be one of reference, warmup_linear_decay, "
                                 "not 'cosine'")),
    ({"adam_bias_correction": 1}, "run spec: key 'adam_bias_correction' has the wrong type (int: 1)"),
    ({"min_steps": -1}, "run spec: key 'min_steps' must be >= 0"),
    ({"annealing": 2.0}, "run spec: key 'annealing' must be 'linear' or a number in [0, 1], not 2.0"),
    ({"tasks": ["RTE", "XNLI"]}, "run spec: key 'tasks': unknown task 'XNLI'; known tasks: CoLA, SST-2, MRPC, "
                                 "STS-B, QQP, MNLI, QNLI, RTE, WNLI, MNLI-mm, AX"),
    ({"init": {"kind": "hub", "path": "x"}}, "run spec: key 'init' must be {kind: config|pretrained|checkpoint, "
                                             "path: str}, not {'kind': 'hub', 'path': 'x'}"),
])
def test_bad_keys_are_named(change, message):
    with pytest.raises(BamError) as err:
        spec_from_dict({**BASE, **change})
    assert str(err.value) == message


def test_load_names_the_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**BASE, "seed": "0"}))
    with pytest.raises(BamError, match=r"s\.json: key 'seed' has the wrong type"):
        load_spec(path)
    assert isinstance(spec_from_dict({**BASE, "annealing": 0.5}), RunSpec)


def test_per_task_alpha_map_in_single_mode():
    spec = spec_from_dict({**BASE, "mode": "single", "tasks": ["RTE", "CoLA"],
                           "layerwise_lr_decay": {"RTE": 1.0, "CoLA": 0.9}})
    assert (spec.alpha("RTE"), spec.alpha("CoLA")) == (1.0, 0.9)
    with pytest.raises(BamError, match="may be a {task: alpha} map only in single mode"):
        spec_from_dict({**BASE, "layerwise_lr_decay": {"RTE": 1.0}})
