//! Fuzz target `blob_uri`: a thin wrapper over `rxon_core::fuzzing::blob_uri`, which the stable test
//! suite also runs over the committed corpus.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxon_core::fuzzing::blob_uri(data));
