//! Any command-line values for a fixture operation: reading, typing, validating and
//! serialising them into a request must never panic, and never let a value change the path.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    epilot::fuzzing::parameters_to_request(data);
});
