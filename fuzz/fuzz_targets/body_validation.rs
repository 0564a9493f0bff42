//! Any bytes as a request body for fixture operations (oneOf, recursion, formats): the JSON
//! check and schema validation must never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    epilot::fuzzing::validate_body(data);
});
