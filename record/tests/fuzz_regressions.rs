//! Every input the fuzzer kept (seeds, and anything that once crashed) for the record's
//! targets, replayed through the same entry points (`fuzz/regressions/`).

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

#[test]
fn journal_inputs_read_without_a_panic() {
    for (name, data) in inputs("journal") {
        eprintln!("{name}");
        liner_record::fuzzing::journal(&data);
    }
}

#[test]
fn event_inputs_decode_canonically_without_a_panic() {
    for (name, data) in inputs("event") {
        eprintln!("{name}");
        liner_record::fuzzing::event(&data);
    }
}
