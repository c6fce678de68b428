//! Fuzz target `decode_task`: a thin wrapper over `rxon_core::fuzzing::decode_task`, which the stable test
//! suite also runs over the committed corpus.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxon_core::fuzzing::decode_task(data));
