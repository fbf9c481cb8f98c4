//! Versions on the server: sent in chunks by content hash after the `version_printed` event
//! naming them, resumed after a broken connection or a restart from the chunks already
//! stored, checked whole against their hash, within the project's quota, served in ranges
//! that read only the chunks they cover, and read only by the project's own people. On
//! whichever store the run uses (SQLite, or PostgreSQL in `cargo xtask test`).

mod common;

use common::{client, code, noise, push, session_cookie, sign_in_raw, version_printed, Server};
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
