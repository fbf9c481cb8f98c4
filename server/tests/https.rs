//! HTTPS without a proxy: a studio's own certificate authority (made here with `openssl`),
//! the server on it, and the sync client reaching it with verification on because it trusts
//! the studio's certificate (`LINER_CA_FILE`), and only then. Plain HTTP to it is refused.
//! One test: it sets the process's environment.

mod common;

use liner_record::sync::{SyncClient, SyncError};
use liner_record::Role;
use liner_server::tls::Tls;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A studio CA and a certificate it signed for 127.0.0.1 and localhost, in `dir`.
fn studio_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (apt-get install openssl)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Studio CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

#[test]
fn a_studio_server_over_https_is_reached_with_verification_on_and_plain_http_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    studio_certificates(certs.path());
    let (cert, key, ca) = (
        certs.path().join("cert.pem"),
        certs.path().join("key.pem"),
        certs.path().join("ca.pem"),
    );
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(dir.path());
    store.create_project("Album").unwrap();
    let token = store.add_token("Album", "Sam", Role::Producer).unwrap().1;
    let tls = Tls::from_pem_files(&cert, &key, true).unwrap();
    let running =
        liner_server::Background::start_tls(store, "127.0.0.1:0", Default::default(), tls).unwrap();
    let url = format!("https://{}", running.addr);

    // Without the studio's certificate the client refuses the server (no way to turn
    // verification off exists).
    let untrusting = SyncClient::new(&url, &token, Duration::from_secs(5)).unwrap();
    assert!(untrusting.me().is_err());
    // With it, the plugin's client signs in.
    std::env::set_var(liner_record::sync::STUDIO_CA_ENV, &ca);
    let client = SyncClient::new(&url, &token, Duration::from_secs(5)).unwrap();
    assert_eq!(client.me().unwrap().person, "Sam");

    // The page's cookie is Secure, and answers carry HSTS.
    let browser = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let exec = {
        let dir_store = common::open_store(dir.path());
        dir_store
            .add_token("Album", "Eve", Role::Executive)
            .unwrap()
            .1
    };
    let signed = browser
        .post(format!("{url}/sign-in"))
        .form(&[("token", exec.as_str())])
        .send()
        .unwrap();
    let cookie = signed.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(signed.headers().contains_key("strict-transport-security"));
    // An address made here to be copied (a listening link) is this https address, not
    // http: there is no proxy to say so, the server's own TLS does.
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = browser
        .get(format!("{url}/links"))
        .header("cookie", &session)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let made = browser
        .post(format!("{url}/links"))
        .header("cookie", &session)
        .header("origin", &url)
        .form(&[
            ("csrf", common::csrf_in(&page).as_str()),
            ("label", "for the label"),
            ("days", "7"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        made.contains(&format!("value=\"{url}/listen/lnl_")),
        "{made}"
    );

    // Plain HTTP on the same address: told to use https, never served.
    let mut plain = std::net::TcpStream::connect(running.addr).unwrap();
    plain
        .write_all(
            format!("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = plain.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("HTTPS only"), "{answer}");
    assert!(!answer.contains("Sam"), "{answer}");

    // A server certificate or key that is no such thing is refused with words naming it.
    let junk_cert = certs.path().join("junk-cert.pem");
    std::fs::write(&junk_cert, "not a certificate").unwrap();
    let refused = Tls::from_pem_files(&junk_cert, &key, false)
        .err()
        .expect("a junk certificate");
    assert!(refused.to_string().contains("junk-cert.pem"), "{refused}");
    let refused = Tls::from_pem_files(&cert, &junk_cert, false)
        .err()
        .expect("a junk key");
    assert!(refused.to_string().contains("junk-cert.pem"), "{refused}");

    // A studio certificate file that is no certificate is an error with words.
    let junk = certs.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    std::env::set_var(liner_record::sync::STUDIO_CA_ENV, &junk);
    let refused = SyncClient::new(&url, &token, Duration::from_secs(5));
    assert!(
        matches!(&refused, Err(SyncError::Local(words)) if words.contains("junk.pem")),
        "{:?}",
        refused.err()
    );
    std::env::remove_var(liner_record::sync::STUDIO_CA_ENV);
    drop(running);

    // `liner serve --tls-cert --tls-key` says where it serves: https.
    let port = common::free_port();
    let mut serve = common::liner(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--hsts"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(serve.stdout.take().unwrap());
    let started = Instant::now();
    let mut said = String::new();
    for line in lines.lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.starts_with("Serving the record on") || started.elapsed() > Duration::from_secs(20)
        {
            break;
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        said.contains(&format!("Serving the record on https://127.0.0.1:{port}")),
        "{said}"
    );
}
