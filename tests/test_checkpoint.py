"""Resume state: RNG round trip, refusal of a checkpoint written for another spec."""

import random

import numpy as np
import pytest
import torch
from tiny_data import tiny_spec

from bam_core.errors import BamError
from bam_core.method import checkpoint as ckpt
from bam_core.method.spec import spec_from_dict
from bam_core.method.train import train


def test_rng_state_round_trip():
    state = ckpt.rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    ckpt.set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_checkpoint_of_another_spec_is_refused(tmp_path):
    spec = spec_from_dict(tiny_spec(tmp_path))
    ckpt.save_resume(spec.resume_dir, {"spec": {**spec.to_dict(), "lr": 2e-3}, "unit": None, "finished": {}})
    with pytest.raises(BamError) as err:
        train(spec)
    assert str(err.value) == (
        f"resume checkpoint {spec.resume_dir}/resume.pt was written for a different spec (key 'lr': 0.002 there, "
        f"0.001 now); delete {spec.resume_dir} to start over")
    # keys that cannot change results are ignored
    ckpt.save_resume(spec.resume_dir, {"spec": {**spec.to_dict(), "checkpoint_every": 7}, "unit": None})
    assert ckpt.load_resume(spec.resume_dir, spec.to_dict())["spec"]["checkpoint_every"] == 7
