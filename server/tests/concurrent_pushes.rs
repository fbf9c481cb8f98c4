//! Many pushes at once through one store, to one busy project and to a quiet one: both stores
//! write them in shared transactions (group commit, one writer per process). Every event is
//! stored once, each project's numbers follow the order its pushes were answered in, and the
//! quiet project is not held up behind the busy one. Runs on SQLite, and on PostgreSQL in the
//! PostgreSQL pass.

mod common;

use common::{note_by, open_store};
use liner_record::Role;
use liner_server::store::{Incoming, PushOutcome, Store};
use std::collections::HashSet;
use std::sync::Arc;

#[test]
fn pushes_at_once_to_one_project_are_each_stored_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = open_store(dir.path());
    let busy = store.create_project("Busy").unwrap();
    let quiet = store.create_project("Quiet").unwrap();
    const THREADS: usize = 8;
    const PUSHES: usize = 20;
    let push_all = |project: liner_server::store::Project, who: String, pushes: usize| {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut seqs = Vec::new();
            for p in 0..pushes {
                let batch: Vec<Incoming> = (0..5)
                    .map(|i| {
                        Incoming::from_event(note_by(
                            &project.name,
                            &who,
                            Role::Producer,
                            &format!("{who} push {p} note {i}"),
                        ))
                    })
                    .collect();
                // A retry of the same push in between: answered as duplicates.
                let first = store.push(&project, None, &batch).unwrap();
                let again = store.push(&project, None, &batch).unwrap();
                for (a, b) in first.iter().zip(&again) {
                    let PushOutcome::Stored(seq) = a else {
                        panic!("{a:?}")
                    };
                    assert_eq!(b, &PushOutcome::Duplicate(*seq));
                    seqs.push(*seq);
                }
            }
            seqs
        })
    };
    let busy_threads: Vec<_> = (0..THREADS)
        .map(|t| push_all(busy.clone(), format!("p{t}"), PUSHES))
        .collect();
    let quiet_thread = push_all(quiet.clone(), "q".into(), PUSHES);
    let mut all = Vec::new();
    for t in busy_threads {
        let seqs = t.join().unwrap();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one pusher's events are numbered in the order it pushed them"
        );
        all.extend(seqs);
    }
    let quiet_seqs = quiet_thread.join().unwrap();
    let stored = store.pull(&busy, 0, 100_000).unwrap();
    assert_eq!(stored.len(), THREADS * PUSHES * 5, "each event once");
    let numbers: Vec<u64> = stored.iter().map(|(seq, _)| *seq).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in order");
    let answered: HashSet<u64> = all.into_iter().collect();
    assert_eq!(
        answered,
        numbers.iter().copied().collect::<HashSet<_>>(),
        "the numbers answered are the numbers stored"
    );
    let quiet_stored: Vec<u64> = store
        .pull(&quiet, 0, 100_000)
        .unwrap()
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    assert_eq!(quiet_stored, quiet_seqs);
}
