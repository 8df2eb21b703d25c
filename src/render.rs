//! Rendered reports (being written).
