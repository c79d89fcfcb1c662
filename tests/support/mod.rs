//! Shared fixtures for integration tests.

pub mod dashboard;
