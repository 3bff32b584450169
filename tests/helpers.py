"""Helpers for browser tests: find pattern-matching ids, wait for text, build small datasets."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd


def css(type_name: str, sub: str, index: str) -> str:
    """The CSS selector of a component element: Dash writes pattern ids as compact JSON with sorted keys."""
    ident = json.dumps({"index": index, "sub": sub, "type": f"symphony-{type_name}"}, separators=(",", ":"), sort_keys=True)
    return f"[id='{ident}']"


def count_text(dash_duo: Any) -> str:
    return dash_duo.find_element("#symphony-count").text


def wait_count(dash_duo: Any, shown: int, total: int, timeout: float = 10) -> None:
    """Wait until the toolbar reads 'shown of total instances'."""
    dash_duo.wait_for_text_to_equal("#symphony-count", f"{shown:,} of {total:,} instances", timeout=timeout)


def toy_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small classification table with every column kind the components use."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, n)
    correct = rng.random(n) < 0.8
    prediction = np.where(correct, label, (label + 1) % 4)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "label": label,
            "prediction": prediction,
            "confidence": np.clip(rng.normal(0.75, 0.15, n), 0, 1),
            "split": np.where(rng.random(n) < 0.8, "train", "test"),
            "x": rng.normal(label * 3.0, 1.0),
            "y": rng.normal(label % 2 * 3.0, 1.0),
            "text": [f"sample {i} of class {v}" for i, v in enumerate(label)],
        }
    )
