//! Fuzz target `value`: a thin wrapper over `rxon_core::fuzzing::value`, which the stable test
//! suite also runs over the committed corpus.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxon_core::fuzzing::value(data));
