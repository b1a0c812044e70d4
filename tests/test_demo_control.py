"""workflow/configs/demo-control.yaml is the demo with the synthetic suite's sharing and label noise off."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_control_is_the_demo_without_sharing_and_noise():
    demo = yaml.safe_load((ROOT / "config.yaml").read_text())
    control = yaml.safe_load((ROOT / "workflow/configs/demo-control.yaml").read_text())
    assert control["data"]["synthetic"]["sharing"] == 0.0 and control["data"]["synthetic"]["label_noise"] == 0.0
    for knob in ("sharing", "label_noise"):
        del demo["data"]["synthetic"][knob], control["data"]["synthetic"][knob]
    assert control == demo
