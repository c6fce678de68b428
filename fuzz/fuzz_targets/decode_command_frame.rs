//! Fuzz target `decode_command_frame`: a thin wrapper over `rxon_core::fuzzing::decode_command_frame`, which the stable test
//! suite also runs over the committed corpus.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxon_core::fuzzing::decode_command_frame(data));
