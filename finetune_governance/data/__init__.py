"""Datasets, their declarations (datasheets) and fingerprints."""

from .datasets import TabularDataset, load_table
from .datasheet import Datasheet, load_datasheet
from .fingerprint import sha256_file

__all__ = ["Datasheet", "TabularDataset", "load_datasheet", "load_table", "sha256_file"]
