#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    liner_record::fuzzing::event(data);
});
