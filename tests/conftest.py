import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


# figures are validated property by property in the tests (the dashboards skip it for speed: grutools/sketch.py)
os.environ.setdefault("GRUTOOLS_VALIDATE_FIGURES", "1")
