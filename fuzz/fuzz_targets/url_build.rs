//! Any path template and values: the URL built from them may be refused, but never goes to
//! another scheme, host or port than the server's, as the transport reads it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    epilot::fuzzing::url_from_template(data);
});
