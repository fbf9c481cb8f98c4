//! Every saved plugin state the fuzzer kept (`fuzz/regressions/saved_state/`), loaded again:
//! among them a state with a field given twice, which the loader once passed on and the
//! host's load then refused (the state was lost instead of set aside).

#[test]
fn saved_state_inputs_load_or_are_set_aside_without_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/saved_state");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        eprintln!("{}", p.display());
        liner_notes::state::fuzz_saved_state(&std::fs::read(&p).unwrap());
        seen += 1;
    }
    assert!(seen >= 3, "inputs in {}", dir.display());
}
