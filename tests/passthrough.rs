//! Audio passes through bit-exact, with zero latency, in both layouts, at any block size and
//! sample rate, bypassed or not, with or without transport information from the host.

mod common;

use common::host::{Instance, Timeline};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Bit patterns a careless plugin would change: signed zeros, the smallest and largest
/// denormals, infinities, quiet and signalling NaNs with payloads, the extremes.
const ADVERSARIAL: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x0000_0001,
    0x8000_0001,
    0x007f_ffff,
    0x807f_ffff,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0xffc0_0000,
    0x7f80_0001,
    0xff80_0001,
    0x7fbf_ffff,
    0x7fc1_2345,
    0xffff_ffff,
    0x7f7f_ffff,
    0xff7f_ffff,
    0x0080_0000,
    0x3f80_0000,
    0xbf80_0000,
];

fn fill(rng: &mut StdRng, buf: &mut [f32], adversarial: bool) {
    for s in buf {
        let bits = if adversarial {
            ADVERSARIAL[rng.random_range(0..ADVERSARIAL.len())]
        } else {
            rng.random::<u32>()
        };
        *s = f32::from_bits(bits);
    }
}

/// Runs `total` frames through in blocks whose sizes vary call to call (always including 1 and
/// 8192), checking every output sample's bits against the input's.
fn check_bit_exact(channels: usize, sample_rate: f64, bypass: bool, with_transport: bool) {
    check_bit_exact_with(channels, sample_rate, bypass, with_transport, false);
}

fn check_bit_exact_with(
    channels: usize,
    sample_rate: f64,
    bypass: bool,
    with_transport: bool,
    clips: bool,
) {
    let mut plugin = Instance::new();
    if clips {
        let blob = common::host::edit_instance_state(&plugin.save_state(), |st| {
            st["clip_audio"] = true.into();
        });
        plugin.load_state(&blob);
    }
    plugin.select_channels(channels as u32);
    assert_eq!(
        plugin.main_port_channels(),
        (channels as u32, channels as u32)
    );
    let bypass_id = plugin.param_id("Bypass");
    let mut p = plugin.activate(sample_rate, 8192, channels);
    let mut rng = StdRng::seed_from_u64(channels as u64 * 1_000_003 + sample_rate as u64);
    let mut timeline = Timeline::new(sample_rate, 120.0, (4, 4));
    timeline.playing = true;
    let sizes = [
        1usize, 8192, 2, 3, 63, 64, 65, 127, 128, 441, 480, 512, 1000, 1024, 4096, 8191,
    ];
    let mut pos = 0i64;
    for (i, &size) in sizes.iter().chain(sizes.iter().rev()).enumerate() {
        let size = if i >= sizes.len() && size > 4 {
            rng.random_range(1..=size)
        } else {
            size
        };
        if i == 0 {
            p.set_param(0, bypass_id, if bypass { 1.0 } else { 0.0 });
        }
        for ch in 0..channels {
            fill(&mut rng, &mut p.inputs[ch][..size], i % 2 == 0);
            // Stale output must be overwritten, not mixed in.
            p.outputs[ch][..size].fill(f32::from_bits(0x7fa5_a5a5));
        }
        let t = timeline.at(pos);
        p.process(size, with_transport.then_some(&t));
        for ch in 0..channels {
            for n in 0..size {
                let (i_bits, o_bits) = (p.inputs[ch][n].to_bits(), p.outputs[ch][n].to_bits());
                assert_eq!(
                    i_bits, o_bits,
                    "channel {ch} sample {n} of a {size}-frame block at {sample_rate} Hz: \
                     in {i_bits:#010x} out {o_bits:#010x}"
                );
            }
        }
        pos += size as i64;
    }
    plugin.deactivate(p);
}

#[test]
fn stereo_passes_every_bit_pattern_at_every_rate_and_block_size() {
    for sr in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        check_bit_exact(2, sr, false, true);
    }
}

#[test]
fn mono_passes_every_bit_pattern_at_every_rate_and_block_size() {
    for sr in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        check_bit_exact(1, sr, false, true);
    }
}

#[test]
fn with_clips_on_every_bit_pattern_still_passes_untouched() {
    // The tap reads every sample (NaN payloads, denormals, infinities included) and writes
    // none.
    for sr in [44_100.0, 192_000.0] {
        check_bit_exact_with(2, sr, false, true, true);
        check_bit_exact_with(1, sr, false, true, true);
    }
}

#[test]
fn host_bypass_is_bit_exact_too() {
    check_bit_exact(2, 48_000.0, true, true);
    check_bit_exact(1, 44_100.0, true, true);
}

#[test]
fn a_host_without_transport_information_still_gets_bit_exact_audio() {
    check_bit_exact(2, 48_000.0, false, false);
}

#[test]
fn latency_is_zero_in_both_layouts() {
    for channels in [2, 1] {
        let mut plugin = Instance::new();
        plugin.select_channels(channels);
        let p = plugin.activate(48_000.0, 512, channels as usize);
        assert_eq!(plugin.latency(), 0);
        plugin.deactivate(p);
    }
}

#[test]
fn the_default_layout_is_stereo() {
    let mut plugin = Instance::new();
    assert_eq!(plugin.main_port_channels(), (2, 2));
}
