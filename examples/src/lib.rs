//! Runnable examples of the `supervisor` crate live in `examples/`.
