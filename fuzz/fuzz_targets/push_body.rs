#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    liner_server::api::fuzz_push_body(data);
});
