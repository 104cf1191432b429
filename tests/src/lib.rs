//! Integration tests of the `supervisor` crate live in `tests/`.
