"""datasets with no network and a throwaway cache, for the tests of the hub and file readers."""

import pytest


def go_offline(tmp_path, monkeypatch) -> None:
    """No network, and a cache under tmp_path instead of ~/.cache/huggingface (datasets reads both the
    environment and its config module, which it filled at import)."""
    datasets = pytest.importorskip("datasets")
    cache = tmp_path / "hf-cache"
    for var, value in {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
                       "HF_DATASETS_CACHE": str(cache)}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
