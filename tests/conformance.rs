//! Checks in the spirit of the CLAP validator, which cannot be installed here: the descriptor,
//! parameters (ids, flags, text round trips), repeated activation at changing sample rates and
//! block sizes with processing in between, state saved while active, and many instances
//! created and destroyed from several threads at once (they share one worker).

mod common;

use clack_extensions::params::{ParamInfoBuffer, ParamInfoFlags, PluginParams};
use common::host::{capture_log, liner_notes_library, load_entry, Instance, Timeline, CLAP_ID};
use std::collections::HashSet;
use std::ffi::CString;

#[test]
fn the_descriptor_names_the_plugin_and_its_features() {
    let entry = load_entry(&liner_notes_library());
    let factory = entry.get_plugin_factory().expect("plugin factory");
    assert_eq!(factory.plugin_count(), 1);
    let d = factory.plugin_descriptor(0).unwrap();
    assert_eq!(d.id(), Some(CLAP_ID));
    assert_eq!(d.name().unwrap().to_str().unwrap(), "Liner Notes");
    assert_eq!(d.vendor().unwrap().to_str().unwrap(), "Liner Notes");
    assert_eq!(
        d.version().unwrap().to_str().unwrap(),
        env!("CARGO_PKG_VERSION")
    );
    let features: HashSet<String> = d
        .features()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    for f in ["audio-effect", "utility", "stereo", "mono"] {
        assert!(features.contains(f), "missing feature {f}: {features:?}");
    }
}

#[test]
fn parameters_have_unique_ids_and_round_trip_through_text() {
    let mut plugin = Instance::new();
    let h = plugin.instance.plugin_handle();
    let params: PluginParams = h.get_extension().unwrap();
    let mut buf = ParamInfoBuffer::new();
    let mut ids = HashSet::new();
    let mut names = Vec::new();
    let mut saw_bypass = false;
    for i in 0..params.count(&h) {
        let info = params.get_info(&h, i, &mut buf).unwrap();
        assert!(ids.insert(info.id), "duplicate id");
        let name = String::from_utf8(info.name.to_vec()).unwrap();
        assert!(
            info.flags.contains(ParamInfoFlags::IS_AUTOMATABLE),
            "{name}"
        );
        assert!(info.flags.contains(ParamInfoFlags::IS_STEPPED), "{name}");
        assert_eq!(
            (info.min_value, info.max_value, info.default_value),
            (0.0, 1.0, 0.0)
        );
        saw_bypass |= info.flags.contains(ParamInfoFlags::IS_BYPASS);
        let (id, default) = (info.id, info.default_value);
        assert_eq!(params.get_value(&h, id), Some(default));
        for value in [0.0, 1.0] {
            let mut text = [0u8; 64];
            let shown = params.value_to_text(&h, id, value, &mut text).unwrap();
            let shown = String::from_utf8(shown.to_vec()).unwrap();
            let back = params
                .text_to_value(&h, id, &CString::new(shown.clone()).unwrap())
                .unwrap_or_else(|| panic!("{name}: {shown:?} does not parse back"));
            assert_eq!(back, value, "{name}: {shown:?}");
        }
        names.push(name);
    }
    names.sort();
    assert_eq!(names, ["Bypass", "Mark", "Print"]);
    assert!(saw_bypass, "the host bypass parameter is flagged as such");
}

#[test]
fn activation_cycles_at_changing_rates_and_block_sizes_keep_working() {
    let mut plugin = Instance::new();
    let mark = plugin.param_id("Mark");
    let mut marks = 0;
    for (round, (sr, max)) in [
        (44_100.0, 32),
        (48_000.0, 8192),
        (96_000.0, 1),
        (192_000.0, 480),
    ]
    .into_iter()
    .cycle()
    .take(12)
    .enumerate()
    {
        let channels = if round % 2 == 0 { 2 } else { 1 };
        plugin.select_channels(channels as u32);
        let mut p = plugin.activate(sr, max, channels);
        let mut t = Timeline::new(sr, 100.0, (3, 4));
        t.playing = true;
        for b in 0..20 {
            if b == 5 {
                p.set_param(0, mark, 1.0);
                marks += 1;
            }
            if b == 6 {
                p.set_param(0, mark, 0.0);
            }
            let frames = (max as usize).min(1 + b * 7);
            p.inputs[0][..frames].fill(0.5);
            p.process(frames, Some(&t.at((b * frames) as i64)));
            assert_eq!(p.outputs[0][..frames], p.inputs[0][..frames]);
        }
        // Saving while active is allowed and must not disturb processing.
        let saved = plugin.save_state();
        assert!(capture_log(&saved)["events"].is_array());
        plugin.deactivate(p);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = capture_log(&plugin.save_state());
        let n = log["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "mark")
            .count();
        if n == marks || std::time::Instant::now() > deadline {
            assert_eq!(n, marks);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// 40 instances made, played and dropped on 4 threads at once, all served by the one shared
/// worker: each passes its own signal through bit for bit, and its saved state holds exactly
/// its own activation (session opened and closed), transport and mark, under an identity of
/// its own; nothing dropped, nothing of another instance.
#[test]
fn many_instances_on_many_threads_come_and_go() {
    const THREADS: usize = 4;
    const EACH: usize = 10;
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            std::thread::spawn(move || {
                (0..EACH)
                    .map(|round| {
                        let mut plugin = Instance::new();
                        let mark = plugin.param_id("Mark");
                        let mut p = plugin.activate(48_000.0, 64, 2);
                        let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
                        t.playing = true;
                        // A signal no other instance gets: its thread and round in every sample.
                        let signal = |c: usize, i: usize| {
                            ((thread * EACH + round) as f32 + c as f32 * 0.25 + i as f32 / 64.0)
                                / 64.0
                        };
                        for block in 0..4 {
                            for (c, channel) in p.inputs.iter_mut().enumerate() {
                                for (i, x) in channel.iter_mut().enumerate() {
                                    *x = signal(c, i) * if block % 2 == 0 { 1.0 } else { -1.0 };
                                }
                            }
                            p.set_param(0, mark, if block == 1 { 1.0 } else { 0.0 });
                            p.process(64, Some(&t.at(block * 64)));
                            for c in 0..2 {
                                assert!(
                                    p.outputs[c][..64]
                                        .iter()
                                        .zip(&p.inputs[c][..64])
                                        .all(|(o, i)| o.to_bits() == i.to_bits()),
                                    "thread {thread}, round {round}, block {block}, \
                                     channel {c}: the output is not the input"
                                );
                            }
                        }
                        plugin.deactivate(p);
                        capture_log(&plugin.save_state())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut identities = HashSet::new();
    for (thread, t) in threads.into_iter().enumerate() {
        for (round, log) in t.join().expect("instance thread").into_iter().enumerate() {
            let instance = log["instance"].as_str().expect("an identity").to_owned();
            assert!(identities.insert(instance.clone()), "{instance} twice");
            let kinds: Vec<&str> = log["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["kind"].as_str().unwrap())
                .collect();
            assert_eq!(
                kinds,
                [
                    "session_opened",
                    "transport_started",
                    "mark",
                    "transport_stopped",
                    "session_closed"
                ],
                "thread {thread}, round {round}: {log}"
            );
            assert_eq!(log["dropped"], 0, "thread {thread}, round {round}");
            let mark = &log["events"][2];
            assert_eq!(mark["body"]["instance"], instance.as_str(), "{mark}");
            assert_eq!(mark["body"]["number"], 1, "{mark}");
        }
    }
    assert_eq!(identities.len(), THREADS * EACH);
}
