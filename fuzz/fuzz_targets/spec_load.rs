//! Any bytes as an OpenAPI document (JSON or YAML): loading, indexing, resolving every
//! operation, samples and help must never panic, hang or exhaust memory.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    epilot::fuzzing::load_spec_and_render(data);
});
