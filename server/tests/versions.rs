//! Versions on the server: sent in chunks by content hash after the `version_printed` event
//! naming them, resumed after a broken connection or a restart from the chunks already
//! stored, checked whole against their hash, within the project's quota, served in ranges
//! that read only the chunks they cover, and read only by the project's own people. On
//! whichever store the run uses (SQLite, or PostgreSQL in `cargo xtask test`).

mod common;

use common::{
    client, code, noise, page_session, push, session_cookie, sign_in_raw, version_printed, Server,
};
use liner_record::clips::ClipHash;
use liner_record::versions::{chunk_span, chunks_of, CHUNK_BYTES};
use liner_record::Role;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;

const P: &str = "Album";
const MIB: usize = CHUNK_BYTES as usize;

fn status(s: &Server, token: &str, hash: &str) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{}/api/v1/versions/{hash}/chunks", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status(), r.json().unwrap())
}

fn put_chunk(s: &Server, token: &str, hash: &str, index: u64, body: &[u8]) -> (StatusCode, Value) {
    let r = client()
        .put(format!("{}/api/v1/versions/{hash}/chunks/{index}", s.url))
        .bearer_auth(token)
        .body(body.to_vec())
        .send()
        .unwrap();
    (r.status(), r.json().unwrap())
}

/// Chunk `index` of `file`.
fn chunk(file: &[u8], index: u64) -> &[u8] {
    let (start, len) = chunk_span(file.len() as u64, index).unwrap();
    &file[start as usize..(start + len) as usize]
}

fn fetch(s: &Server, token: &str, hash: &str, range: Option<&str>) -> reqwest::blocking::Response {
    let mut r = client()
        .get(format!("{}/api/v1/versions/{hash}", s.url))
        .bearer_auth(token);
    if let Some(range) = range {
        r = r.header("range", range);
    }
    r.send().unwrap()
}

/// Sends the headers of a chunk upload and `sent` bytes of its body, then drops the
/// connection: an upload killed mid-chunk.
fn send_half_and_hang_up(s: &Server, token: &str, hash: &str, index: u64, body: &[u8]) {
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        tcp,
        "PUT /api/v1/versions/{hash}/chunks/{index} HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        s.addr(),
        body.len()
    )
    .unwrap();
    tcp.write_all(&body[..body.len() / 2]).unwrap();
    tcp.flush().unwrap();
    drop(tcp);
}

fn have(v: &Value) -> Vec<u64> {
    v["have"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap())
        .collect()
}

#[test]
fn an_upload_killed_at_ninety_percent_resumes_after_a_restart_and_the_copy_has_the_right_hash() {
    let mut s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let jo = s.token(P, "Jo", Role::Executive);
    // Ten chunks, the last one shorter.
    let file = noise(9 * MIB + 123_457, 1);
    let hash = ClipHash::of(&file).to_string();
    let n = chunks_of(file.len() as u64);
    assert_eq!(n, 10);

    // Before its event the server knows nothing of it.
    let (st, v) = status(&s, &sam, &hash);
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(code(&v), "unknown_version");
    let (st, v) = push(&s, &sam, &[&version_printed(P, "Sam", &file)]);
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = status(&s, &sam, &hash);
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["chunk_bytes"], CHUNK_BYTES);
    assert_eq!(v["chunks"], n);
    assert!(have(&v).is_empty());
    assert_eq!(v["complete"], false);

    // Nine chunks go, the tenth is cut off halfway: 90%.
    for i in 0..9 {
        let (st, v) = put_chunk(&s, &sam, &hash, i, chunk(&file, i));
        assert_eq!(st, StatusCode::CREATED, "chunk {i}: {v}");
        assert_eq!(v["complete"], false);
    }
    send_half_and_hang_up(&s, &sam, &hash, 9, chunk(&file, 9));
    let (_, v) = status(&s, &sam, &hash);
    assert_eq!(
        have(&v),
        (0..9).collect::<Vec<_>>(),
        "the torn chunk is not kept"
    );

    // A restart keeps what was stored; the upload goes on from there.
    s.restart(liner_server::serve::Limits::default());
    let (_, v) = status(&s, &sam, &hash);
    assert_eq!(have(&v), (0..9).collect::<Vec<_>>());
    assert_eq!(
        fetch(&s, &jo, &hash, None).status(),
        StatusCode::NOT_FOUND,
        "an incomplete version is not served"
    );
    let (st, v) = put_chunk(&s, &sam, &hash, 3, chunk(&file, 3));
    assert_eq!(
        (st, v["complete"].clone()),
        (StatusCode::OK, false.into()),
        "a retry"
    );
    let (st, v) = put_chunk(&s, &sam, &hash, 9, chunk(&file, 9));
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["complete"], true);
    let (_, v) = status(&s, &sam, &hash);
    assert_eq!(v["complete"], true);
    let (st, v) = put_chunk(&s, &sam, &hash, 0, chunk(&file, 0));
    assert_eq!((st, v["complete"].clone()), (StatusCode::OK, true.into()));

    let got = fetch(&s, &jo, &hash, None);
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "audio/flac");
    assert_eq!(got.headers()["accept-ranges"], "bytes");
    let got = got.bytes().unwrap();
    assert_eq!(got.len(), file.len());
    assert_eq!(
        ClipHash::of(&got).to_string(),
        hash,
        "the server's copy hashes right"
    );
}

#[test]
fn bad_chunks_are_refused_with_words_and_change_nothing_else() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let viewer = s.token(P, "Vi", Role::Viewer);
    let outsider = s.token("Other", "Max", Role::Producer);
    let file = noise(2 * MIB + 10, 2);
    let hash = ClipHash::of(&file).to_string();
    let other_file = noise(MIB + 5, 3);
    let other_hash = ClipHash::of(&other_file).to_string();
    push(&s, &sam, &[&version_printed(P, "Sam", &file)]);
    push(
        &s,
        &outsider,
        &[&version_printed("Other", "Max", &other_file)],
    );
    assert_eq!(
        put_chunk(&s, &sam, &hash, 0, chunk(&file, 0)).0,
        StatusCode::CREATED
    );

    let refused = |st: StatusCode, v: &Value, want: &str, words: &str| {
        assert_eq!(code(v), want, "{st} {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message:?} lacks {words:?}");
    };
    let (st, v) = put_chunk(&s, &sam, &hash, 1, &chunk(&file, 1)[1..]);
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    refused(
        st,
        &v,
        "wrong_size",
        "chunk 1 of this version is 1048576 bytes",
    );
    let (st, v) = put_chunk(&s, &sam, &hash, 2, &[0u8; 11]);
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    refused(st, &v, "wrong_size", "is 10 bytes");
    let (st, v) = put_chunk(&s, &sam, &hash, 3, &[0u8; 10]);
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    refused(st, &v, "out_of_range", "has 3 chunks (0 to 2), not 3");
    let (st, v) = put_chunk(&s, &sam, &hash, 1, &vec![0u8; MIB + 1]);
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    refused(st, &v, "body_too_large", "at most 1048576 bytes");
    let nobody = ClipHash::of(b"never printed").to_string();
    let (st, v) = put_chunk(&s, &sam, &nobody, 0, b"x");
    assert_eq!(st, StatusCode::NOT_FOUND);
    refused(st, &v, "unknown_version", "push the event first");
    // Another project's version is unknown here, both ways.
    let (st, v) = put_chunk(&s, &sam, &other_hash, 0, chunk(&other_file, 0));
    assert_eq!(st, StatusCode::NOT_FOUND);
    refused(
        st,
        &v,
        "unknown_version",
        "no version_printed event of this project",
    );
    assert_eq!(status(&s, &outsider, &hash).0, StatusCode::NOT_FOUND);
    assert_eq!(status(&s, &sam, &other_hash).0, StatusCode::NOT_FOUND);
    let (st, v) = put_chunk(&s, &viewer, &hash, 1, chunk(&file, 1));
    assert_eq!(st, StatusCode::FORBIDDEN);
    refused(st, &v, "viewer", "can read but not write");
    let (st, v) = put_chunk(&s, &sam, &hash, 1, b"");
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let r = client()
        .put(format!("{}/api/v1/versions/{hash}/chunks/x", s.url))
        .bearer_auth(&sam)
        .body("x")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Nothing of that was kept: the version holds its first chunk, the other none.
    let (_, v) = status(&s, &sam, &hash);
    assert_eq!(have(&v), vec![0]);
    assert!(have(&status(&s, &outsider, &other_hash).1).is_empty());

    // A chunk damaged on the way is found when the whole is in: every chunk goes, so the
    // next upload starts clean, and nothing else changes.
    let mut bad = chunk(&file, 1).to_vec();
    bad[1000] ^= 0x40;
    assert_eq!(put_chunk(&s, &sam, &hash, 1, &bad).0, StatusCode::CREATED);
    let (st, v) = put_chunk(&s, &sam, &hash, 2, chunk(&file, 2));
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    refused(
        st,
        &v,
        "hash_mismatch",
        "They were dropped; send the version again",
    );
    let (_, v) = status(&s, &sam, &hash);
    assert!(have(&v).is_empty(), "{v}");
    assert_eq!(v["complete"], false);
    assert_eq!(status(&s, &outsider, &other_hash).0, StatusCode::OK);
    assert_eq!(s.stored(P).len(), 1, "the event stays");
    // Sent again right, it completes.
    for i in 0..3 {
        put_chunk(&s, &sam, &hash, i, chunk(&file, i));
    }
    assert_eq!(status(&s, &sam, &hash).1["complete"], true);
}

#[test]
fn a_version_that_cannot_fit_the_quota_is_refused_at_its_first_chunk() {
    let s = Server::start_with(liner_server::serve::Limits {
        clip_quota: 3 * CHUNK_BYTES,
        ..Default::default()
    });
    let sam = s.token(P, "Sam", Role::Producer);
    let small = noise(MIB + 1, 4);
    let big = noise(2 * MIB, 5);
    push(
        &s,
        &sam,
        &[
            &version_printed(P, "Sam", &small),
            &version_printed(P, "Sam", &big),
        ],
    );
    let small_hash = ClipHash::of(&small).to_string();
    for i in 0..2 {
        put_chunk(&s, &sam, &small_hash, i, chunk(&small, i));
    }
    // 1 MiB + 1 held; the big one needs 2 MiB more than the 3 MiB allow.
    let big_hash = ClipHash::of(&big).to_string();
    let (st, v) = put_chunk(&s, &sam, &big_hash, 1, chunk(&big, 1));
    assert_eq!(st, StatusCode::INSUFFICIENT_STORAGE, "{v}");
    assert_eq!(code(&v), "over_quota");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("clips and versions use 1 of the server's 3 MB"));
    assert!(have(&status(&s, &sam, &big_hash).1).is_empty());
}

#[test]
fn a_range_reads_only_the_chunks_it_covers_and_the_page_serves_the_same_bytes() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let jo = s.token(P, "Jo", Role::Executive);
    let outsider = s.token("Other", "Max", Role::Executive);
    let file = noise(5 * MIB + 777, 6);
    let hash = ClipHash::of(&file).to_string();
    push(&s, &sam, &[&version_printed(P, "Sam", &file)]);
    for i in 0..chunks_of(file.len() as u64) {
        put_chunk(&s, &sam, &hash, i, chunk(&file, i));
    }

    let read = |range: &str| {
        let before = s.store.chunks_read();
        let r = fetch(&s, &jo, &hash, Some(range));
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let header = r.headers()["content-range"].to_str().unwrap().to_owned();
        let body = r.bytes().unwrap();
        (body, header, s.store.chunks_read() - before)
    };
    // Inside one chunk: that chunk only.
    let (body, header, chunks) = read("bytes=3145800-3145899");
    assert_eq!(&body[..], &file[3_145_800..3_145_900]);
    assert_eq!(header, format!("bytes 3145800-3145899/{}", file.len()));
    assert_eq!(chunks, 1);
    // Across a join: the two chunks it spans.
    let (body, _, chunks) = read("bytes=1048000-1049000");
    assert_eq!(&body[..], &file[1_048_000..=1_049_000]);
    assert_eq!(chunks, 2);
    // The tail, as players ask for it: the last chunk.
    let (body, _, chunks) = read("bytes=-100");
    assert_eq!(&body[..], &file[file.len() - 100..]);
    assert_eq!(chunks, 1);
    let (body, _, chunks) = read(&format!("bytes={}-", 4 * MIB - 1));
    assert_eq!(&body[..], &file[4 * MIB - 1..]);
    assert_eq!(chunks, 3);

    // Another project's people learn nothing; no token, nothing.
    assert_eq!(
        fetch(&s, &outsider, &hash, None).status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = client()
        .get(format!("{}/api/v1/versions/{hash}", s.url))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // The review page: a signed-in session of the project hears it; nobody else does.
    let cookie = session_cookie(&sign_in_raw(&s, &jo, &[]));
    let page = |cookie: &str| {
        client()
            .get(format!("{}/versions/{hash}.flac", s.url))
            .header("cookie", cookie)
            .header("range", "bytes=10-19")
            .send()
            .unwrap()
    };
    let r = page(&cookie);
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(&r.bytes().unwrap()[..], &file[10..20]);
    let other = session_cookie(&sign_in_raw(&s, &outsider, &[]));
    assert_eq!(page(&other).status(), StatusCode::NOT_FOUND);
    assert_ne!(
        page("liner_session=nope").status(),
        StatusCode::PARTIAL_CONTENT
    );
}

/// A journal in `dir` holding `file` as a printed version, its event appended.
fn journal_with_version(dir: &std::path::Path, file: &[u8]) -> liner_record::Journal {
    let journal = liner_record::Journal::open(dir).unwrap();
    let event = version_printed(P, "Sam", file);
    let liner_record::Body::VersionPrinted(v) = &event.body else {
        unreachable!()
    };
    let store = liner_record::versions::VersionStore::of_journal(journal.dir());
    std::fs::create_dir_all(store.dir()).unwrap();
    std::fs::write(store.path(&v.version), file).unwrap();
    journal.append(&[event]).unwrap();
    journal
}

#[test]
fn the_client_goes_on_from_the_chunks_the_server_kept_across_a_restart() {
    use liner_record::sync::{
        send_versions_in_turn, sync_once, SyncClient, SyncReport, TargetSync,
    };
    let mut s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let dir = tempfile::tempdir().unwrap();
    let file = noise(9 * MIB + 4321, 7);
    let hash = ClipHash::of(&file).to_string();
    let journal = journal_with_version(dir.path(), &file);
    let client = SyncClient::new(&s.url, &sam, std::time::Duration::from_secs(30)).unwrap();

    // An earlier run pushed the event and nine chunks, and was cut off in the tenth.
    let mut target = TargetSync::open(&journal, &s.url, P).unwrap();
    let mut report = SyncReport::new(client.me().unwrap());
    target.push(&client, &mut report).unwrap();
    assert_eq!(report.pushed, 1);
    for i in 0..9 {
        put_chunk(&s, &sam, &hash, i, chunk(&file, i));
    }
    send_half_and_hang_up(&s, &sam, &hash, 9, chunk(&file, 9));
    s.restart(liner_server::serve::Limits::default());
    // The client's kept connection may have died with the server: such a round says the
    // server could not be reached and the plugin retries it after a backoff. One request
    // stands in for that round.
    let _ = client.me();

    let mut heard = Vec::new();
    let pending = target.pending_versions();
    assert_eq!(pending.len(), 1);
    let all = send_versions_in_turn(
        &client,
        &target.version_store(),
        pending,
        None,
        &mut |u| heard.push((u.label.clone(), u.sent_bytes, u.total_bytes)),
        |v, sent| Ok(target.apply_version_sent(v, sent, &mut report)?),
    )
    .unwrap();
    assert!(all);
    let total = file.len() as u64;
    assert_eq!(
        heard,
        vec![
            ("v1".to_owned(), 9 * CHUNK_BYTES, total),
            ("v1".to_owned(), total, total)
        ],
        "it started from the nine chunks the server kept and sent one"
    );
    assert_eq!(report.versions_sent, 1);
    let got = fetch(&s, &sam, &hash, None).bytes().unwrap();
    assert_eq!(ClipHash::of(&got).to_string(), hash);

    // A later round knows the server has it (versions.log) and sends nothing.
    let before = have(&status(&s, &sam, &hash).1);
    let again = sync_once(&journal, P, &client, std::time::Duration::ZERO).unwrap();
    assert_eq!(again.versions_sent, 0);
    assert!(target.pending_versions().is_empty());
    assert_eq!(have(&status(&s, &sam, &hash).1), before);
}

#[test]
fn a_version_upload_stops_at_its_deadline_and_waits_in_words_when_the_quota_is_full() {
    use liner_record::sync::{sync_once, SyncClient, SyncReport, TargetSync};
    let s = Server::start_with(liner_server::serve::Limits {
        clip_quota: 4 * CHUNK_BYTES,
        ..Default::default()
    });
    let sam = s.token(P, "Sam", Role::Producer);
    let client = SyncClient::new(&s.url, &sam, std::time::Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = noise(3 * MIB - 1, 8);
    let hash = ClipHash::of(&file).to_string();
    let journal = journal_with_version(dir.path(), &file);

    // Its time is up before the first chunk: nothing goes, and the report says it paused.
    let mut target = TargetSync::open(&journal, &s.url, P).unwrap();
    let mut report = SyncReport::new(client.me().unwrap());
    target.push(&client, &mut report).unwrap();
    target
        .push_versions(&client, Some(std::time::Instant::now()), &mut report)
        .unwrap();
    assert!(report.version_paused);
    assert_eq!(report.versions_sent, 0);
    assert!(have(&status(&s, &sam, &hash).1).is_empty());
    // With time, it goes whole.
    let r = sync_once(&journal, P, &client, std::time::Duration::ZERO).unwrap();
    assert_eq!(r.versions_sent, 1, "{:?}", r.version_problem);
    assert_eq!(status(&s, &sam, &hash).1["complete"], true);

    // A second version does not fit what is left: the round says so and keeps the notes.
    let second = noise(2 * MIB, 9);
    let event = version_printed(P, "Sam", &second);
    let liner_record::Body::VersionPrinted(v) = &event.body else {
        unreachable!()
    };
    let store = liner_record::versions::VersionStore::of_journal(journal.dir());
    std::fs::write(store.path(&v.version), &second).unwrap();
    journal
        .append(&[
            event.clone(),
            common::note_by(P, "Sam", Role::Producer, "more air"),
        ])
        .unwrap();
    let r = sync_once(&journal, P, &client, std::time::Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 2, "the notes went");
    assert_eq!(r.versions_sent, 0);
    let words = r.version_problem.expect("the quota is said");
    assert!(words.contains("clips and versions use"), "{words}");
}

/// Chunk `index` of the upload `seed` of `chunks` chunks: made when it is sent (the test
/// holds no whole version either).
fn generated(seed: u64, index: u64) -> Vec<u8> {
    noise(MIB, seed * 100_000 + index)
}

/// The peak resident memory of process `pid` (`VmHWM`, the most its `VmRSS` ever was), in
/// bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kb * 1024
}

/// Ten large uploads at once hold the server's memory down: each chunk is read, stored and
/// let go, and the whole is hashed a chunk at a time. The server is a `liner serve` process
/// of its own, so its resident memory is its alone. 10 x 20 MB here (200 MB in all, twice
/// the bound); the 10 x 100 MB is
/// `LINER_VERSION_UPLOAD_MB=100 cargo test -p liner-server --test versions ten_large`
/// (add `LINER_TEST_STORE=postgres` for PostgreSQL).
#[test]
fn ten_large_uploads_at_once_keep_the_server_under_100_mb_resident() {
    use std::io::BufRead;
    let mb: u64 = std::env::var("LINER_VERSION_UPLOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let data = tempfile::tempdir().unwrap();
    let tokens: Vec<String> = {
        let store = common::open_store(data.path());
        (0..10)
            .map(|i| {
                let project = format!("Album {i}");
                store.create_project(&project).unwrap();
                store.add_token(&project, "Sam", Role::Producer).unwrap().1
            })
            .collect()
    };
    let port = common::free_port();
    let mut server = common::liner(data.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--clip-quota-mb")
        .arg((mb * 2).to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("Serving the record on") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "liner serve exited");
    }
    let url = format!("http://127.0.0.1:{port}");
    let chunks = mb * 1_000_000 / CHUNK_BYTES;
    let uploads: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let url = url.clone();
            std::thread::spawn(move || upload_generated(&url, &token, i as u64, chunks))
        })
        .collect();
    for u in uploads {
        u.join().unwrap();
    }
    let peak = peak_rss(server.id());
    server.kill().unwrap();
    server.wait().unwrap();
    println!("10 x {mb} MB: the server's resident memory peaked at {peak} bytes");
    assert!(
        peak < 100 * 1024 * 1024,
        "the server held {peak} bytes at its peak"
    );
}

/// Uploads `chunks` generated chunks as a version of the token's project, as a client that
/// is told the server is busy tries again; checks the server has it whole at the end (every
/// upload ran to its end: the peak memory measured is that of real work).
fn upload_generated(url: &str, token: &str, seed: u64, chunks: u64) {
    use sha2::Digest;
    let project = format!("Album {seed}");
    let mut hasher = sha2::Sha256::new();
    for i in 0..chunks {
        hasher.update(generated(seed, i));
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut printed = version_printed(&project, "Sam", b"a stand-in");
    if let liner_record::Body::VersionPrinted(v) = &mut printed.body {
        v.version.hash = hash.parse().unwrap();
        v.version.bytes = chunks * CHUNK_BYTES;
    }
    let c = client();
    let pushed = c
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "events": [printed] }))
        .send()
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    for i in 0..chunks {
        let body = generated(seed, i);
        let mut resets = 0;
        loop {
            let sent = c
                .put(format!("{url}/api/v1/versions/{hash}/chunks/{i}"))
                .bearer_auth(token)
                .body(body.clone())
                .send();
            // The server answers `503` before reading a body it will not take, then closes the
            // connection; closed with the body unread, it can be reset before the client reads
            // the answer (seen once, with the whole suite running). The plugin tries such a
            // round again, as it does after a 503.
            let r = match sent {
                Err(e) if e.is_request() && resets < 20 => {
                    resets += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    continue;
                }
                sent => sent.unwrap(),
            };
            match r.status() {
                StatusCode::CREATED => break,
                // Past a share of the upload slots: try again, as the plugin does.
                StatusCode::SERVICE_UNAVAILABLE => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => panic!("chunk {i} of upload {seed}: {other} {}", r.text().unwrap()),
            }
        }
    }
    let done: Value = c
        .get(format!("{url}/api/v1/versions/{hash}/chunks"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(done["complete"], true, "upload {seed}: {done}");
}

/// `liner ARGS` on the record of `s`: success, stdout, stderr.
fn liner_on_record(s: &Server, args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = common::liner(s.dir.path()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn backups_carry_versions_and_a_check_hashes_them() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let file = noise(2 * MIB + 99, 10);
    let hash = ClipHash::of(&file).to_string();
    push(&s, &sam, &[&version_printed(P, "Sam", &file)]);
    for i in 0..3 {
        put_chunk(&s, &sam, &hash, i, chunk(&file, i));
    }
    let (ok, out, err) = liner_on_record(&s, &["check".as_ref()]);
    assert!(ok && out.contains("1 versions, all sound"), "{out}{err}");
    if common::pg::enabled() {
        return; // pg_dump carries every table; `liner backup` is SQLite's.
    }
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("record.backup");
    let (ok, out, err) = liner_on_record(
        &s,
        &["backup".as_ref(), "--to".as_ref(), backup.as_os_str()],
    );
    assert!(ok, "{out}{err}");
    let restored = tempfile::tempdir().unwrap();
    let (ok, out, err) = {
        let out = common::liner_bin()
            .arg("restore")
            .arg("--from")
            .arg(&backup)
            .arg("--data")
            .arg(restored.path())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(ok && out.contains("1 versions, all sound"), "{out}{err}");
    let copy = liner_server::store::SqliteStore::open(restored.path()).unwrap();
    let project = liner_server::store::Store::project(&copy, P)
        .unwrap()
        .unwrap();
    let h: ClipHash = hash.parse().unwrap();
    let mut got = Vec::new();
    for i in 0..3 {
        got.extend(
            liner_server::store::Store::version_chunk(&copy, &project, &h, i)
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(got, file, "the restored record holds the version whole");
    drop(copy);

    // A chunk changed behind the server's back is named by the check.
    let db = rusqlite::Connection::open(restored.path().join("liner.db")).unwrap();
    db.execute(
        "UPDATE version_chunks SET data = zeroblob(size) WHERE idx = 1",
        [],
    )
    .unwrap();
    drop(db);
    let out = common::liner_bin()
        .arg("--data")
        .arg(restored.path())
        .arg("check")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "version {hash}: its chunks do not hash to its name"
        )),
        "{err}"
    );
}

/// `song`'s version printed from `file`, its event pushed and its chunks uploaded (all of
/// them, or the first `chunks`).
fn printed_and_sent(
    s: &Server,
    token: &str,
    song: &str,
    file: &[u8],
    chunks: u64,
) -> liner_record::Event {
    let mut e = version_printed(P, "Sam", file);
    e.song = song.into();
    push(s, token, &[&e]);
    let hash = ClipHash::of(file).to_string();
    for i in 0..chunks.min(chunks_of(file.len() as u64)) {
        put_chunk(s, token, &hash, i, chunk(file, i));
    }
    e
}

#[test]
fn the_album_exports_as_files_in_tracklist_order_with_a_playlist_and_the_sequence_sheet() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let eve = s.token(P, "Eve", Role::Executive);
    let (night, low, moons) = (noise(MIB + 500, 21), noise(700, 22), noise(2 * MIB, 23));
    let a = printed_and_sent(&s, &sam, "Night Drive", &night, u64::MAX);
    let b = printed_and_sent(&s, &sam, "Low Tide", &low, u64::MAX);
    // Approved, but only half of it reached the server.
    let c = printed_and_sent(&s, &sam, "Paper Moons", &moons, 1);
    let exec = |body| {
        let mut e = common::approval(P, "Eve", a.id);
        e.body = body;
        e
    };
    let order = exec(liner_record::Body::TracklistOrder {
        songs: vec![
            "Low Tide".into(),
            "Night Drive".into(),
            "Paper Moons".into(),
        ],
    });
    push(
        &s,
        &eve,
        &[
            &common::approval(P, "Eve", a.id),
            &common::approval(P, "Eve", b.id),
            &common::approval(P, "Eve", c.id),
            &order,
        ],
    );
    let out = tempfile::tempdir().unwrap();
    let album = out.path().join("album");
    let (ok, stdout, err) = liner_on_record(
        &s,
        &[
            "export".as_ref(),
            "--project".as_ref(),
            P.as_ref(),
            "--versions".as_ref(),
            album.as_os_str(),
        ],
    );
    assert!(ok, "{stdout}{err}");
    assert!(err.contains("Paper Moons: the audio of v1"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&album)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "01 Low Tide (v1).flac",
            "02 Night Drive (v1).flac",
            "album.m3u8",
            "sequence.md"
        ],
        "in the executive's order; the song whose audio is not whole is left out, no part file stays"
    );
    assert_eq!(
        std::fs::read(album.join("01 Low Tide (v1).flac")).unwrap(),
        low
    );
    assert_eq!(
        std::fs::read(album.join("02 Night Drive (v1).flac")).unwrap(),
        night
    );
    let m3u = std::fs::read_to_string(album.join("album.m3u8")).unwrap();
    assert!(m3u.starts_with("#EXTM3U\n#EXTINF:"), "{m3u}");
    assert!(
        m3u.find("01 Low Tide (v1).flac").unwrap() < m3u.find("02 Night Drive (v1).flac").unwrap(),
        "{m3u}"
    );
    let sheet = std::fs::read_to_string(album.join("sequence.md")).unwrap();
    assert!(sheet.contains(&ClipHash::of(&night).to_string()), "{sheet}");
    assert!(sheet.contains("| 1 | Low Tide | v1 |"), "{sheet}");
    assert!(sheet.contains("Eve"), "{sheet}");
}

#[test]
fn a_comment_on_a_waveform_is_refused_to_the_wrong_person_version_time_or_size_changing_nothing() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let eve = s.token(P, "Eve", Role::Executive);
    let viewer = s.token(P, "Val", Role::Viewer);
    let other = s.token("Other", "Oz", Role::Producer);
    let ours = version_printed(P, "Sam", &noise(1000, 31));
    let theirs = version_printed("Other", "Oz", &noise(1000, 32));
    push(&s, &sam, &[&ours]);
    push(&s, &other, &[&theirs]);
    let post = |(cookie, csrf): &(String, String), fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        client()
            .post(format!("{}/comment", s.url))
            .header("cookie", cookie)
            .form(&form)
            .send()
            .unwrap()
            .status()
    };
    let id = ours.id.to_string();
    let long = "x".repeat(10_001);
    let stored = || s.stored(P).len();
    let before = stored();

    let watcher = page_session(&s, &viewer);
    let ok = [
        ("version", id.as_str()),
        ("at", "0:01.000"),
        ("text", "more sub"),
    ];
    assert_eq!(
        post(&watcher, &ok),
        StatusCode::FORBIDDEN,
        "a viewer writes nothing"
    );
    let exec = page_session(&s, &eve);
    let forged = (exec.0.clone(), "0123".to_owned());
    assert_eq!(post(&forged, &ok), StatusCode::FORBIDDEN, "no CSRF secret");
    let theirs_id = theirs.id.to_string();
    let nobody = uuid::Uuid::now_v7().to_string();
    for (fields, want) in [
        (
            vec![
                ("version", theirs_id.as_str()),
                ("at", "0:01"),
                ("text", "hi"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![("version", nobody.as_str()), ("at", "0:01"), ("text", "hi")],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![("version", "not-a-uuid"), ("at", "0:01"), ("text", "hi")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("version", id.as_str()), ("at", "soon"), ("text", "hi")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("version", id.as_str()), ("at", "NaN"), ("text", "hi")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("version", id.as_str()), ("at", "9:00:00"), ("text", "hi")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("version", id.as_str()), ("at", "-1"), ("text", "hi")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("version", id.as_str()),
                ("at", "0:01"),
                ("until", "later"),
                ("text", "hi"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("version", id.as_str()), ("at", "0:01"), ("text", "   ")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("version", id.as_str()),
                ("at", "0:01"),
                ("text", long.as_str()),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_eq!(post(&exec, &fields), want, "{fields:?}");
    }
    assert_eq!(stored(), before, "nothing was recorded");
    assert_eq!(s.stored("Other").len(), 1, "the other project is untouched");

    // Recorded, and back to the song's page (the client follows the redirect).
    assert_eq!(post(&exec, &ok), StatusCode::OK);
    assert_eq!(stored(), before + 1);
    let note = s.events(P).into_iter().last().unwrap();
    assert_eq!((note.author.as_str(), note.role), ("Eve", Role::Executive));
    let liner_record::Body::NoteAdded(n) = note.body else {
        panic!("a note: {:?}", note.body)
    };
    assert_eq!((n.text.as_str(), n.version), ("more sub", Some(ours.id)));
}
