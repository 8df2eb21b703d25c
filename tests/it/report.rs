//! Reports rendered from ingest outputs (being written).
