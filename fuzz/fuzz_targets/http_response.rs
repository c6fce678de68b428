//! Fuzz target `http_response`: a thin wrapper over `rxon_transport_http::fuzzing::http_response`,
//! which the stable test suite also runs over the committed corpus.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxon_transport_http::fuzzing::http_response(data));
