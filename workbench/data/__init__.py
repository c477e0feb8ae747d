"""Ingestion of examples and immutable data versions."""

from workbench.data._ingest import ID_COLUMN, SUPPORTED_SUFFIXES, IngestedBatch, prepare_batch, read_table, row_hashes

__all__ = ["ID_COLUMN", "SUPPORTED_SUFFIXES", "IngestedBatch", "prepare_batch", "read_table", "row_hashes"]
