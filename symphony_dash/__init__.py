"""symphony_dash: compose linked, data-driven machine-learning interfaces on Plotly Dash."""

from .app import create_app
from .component import API_VERSION, Column, Component, Event, Props, Slot, View
from .dataset import Dataset, DatasetError
from .engine import Engine, Query
from .filter_text import FilterSyntaxError, parse_filter
from .layout import Layout, LayoutError, layout_schema, load_layout
from .notebook import Symphony
from .registry import register
from .state import (
    Clause,
    ClauseError,
    State,
    all_of,
    any_of,
    between,
    compare,
    contains,
    eq,
    ids,
    is_null,
    isin,
    negate,
    not_in,
    pairs,
    polygon,
)

__all__ = [
    "API_VERSION",
    "Clause",
    "ClauseError",
    "Column",
    "Component",
    "Dataset",
    "DatasetError",
    "Engine",
    "Event",
    "FilterSyntaxError",
    "Layout",
    "LayoutError",
    "Props",
    "Query",
    "Slot",
    "State",
    "Symphony",
    "View",
    "all_of",
    "any_of",
    "between",
    "compare",
    "contains",
    "create_app",
    "eq",
    "ids",
    "is_null",
    "isin",
    "layout_schema",
    "load_layout",
    "negate",
    "not_in",
    "pairs",
    "parse_filter",
    "polygon",
    "register",
]
