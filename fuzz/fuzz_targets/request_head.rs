//! Fuzz target `request_head`: a thin wrapper over `rxon_listener_axum::fuzzing::request_head`,
//! which the stable test suite also runs over the committed corpus.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxon_listener_axum::fuzzing::request_head(data));
