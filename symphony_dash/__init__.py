"""symphony_dash: compose linked, data-driven machine-learning interfaces on Plotly Dash."""

from .app import create_app
from .component import API_VERSION, Column, Component, Event, Props, Slot, View
from .dataset import Dataset, DatasetError
from .engine import Engine, Query
from .layout import Layout, LayoutError, layout_schema, load_layout
from .notebook import Symphony
from .registry import register
from .state import Clause, ClauseError, State, all_of, between, contains, eq, ids, is_null, isin, not_in, pairs, polygon

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
    "Layout",
    "LayoutError",
    "Props",
    "Query",
    "Slot",
    "State",
    "Symphony",
    "View",
    "all_of",
    "between",
    "contains",
    "create_app",
    "eq",
    "ids",
    "is_null",
    "isin",
    "layout_schema",
    "load_layout",
    "not_in",
    "pairs",
    "polygon",
    "register",
]
