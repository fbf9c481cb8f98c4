#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    liner_notes::state::fuzz_saved_state(data);
});
