"""Ingestion of examples and immutable data versions."""

from workbench.data._catalog import DATA_DIR, INGEST_LOCK, DataCatalog
from workbench.data._ingest import (
    DEFAULT_HASH_SCHEME,
    HASH_SCHEMES,
    ID_COLUMN,
    SUPPORTED_SUFFIXES,
    IngestedBatch,
    canonical_text,
    id_text,
    prepare_batch,
    read_table,
    row_hashes,
)

__all__ = [
    "DATA_DIR",
    "DEFAULT_HASH_SCHEME",
    "HASH_SCHEMES",
    "ID_COLUMN",
    "INGEST_LOCK",
    "SUPPORTED_SUFFIXES",
    "DataCatalog",
    "IngestedBatch",
    "canonical_text",
    "id_text",
    "prepare_batch",
    "read_table",
    "row_hashes",
]
