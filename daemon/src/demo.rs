//! Synthetic demo submissions (placeholder).
