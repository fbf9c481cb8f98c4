//! Every push body the fuzzer kept (`fuzz/regressions/push_body/`), judged again.

#[test]
fn push_body_inputs_are_judged_without_a_panic() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/push_body");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        eprintln!("{}", p.display());
        liner_server::api::fuzz_push_body(&std::fs::read(&p).unwrap());
        seen += 1;
    }
    assert!(seen > 0, "no inputs in {}", dir.display());
}
