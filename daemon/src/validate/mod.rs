//! Validation of submissions (placeholder).
