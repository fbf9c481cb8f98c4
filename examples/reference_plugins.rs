//! Reference plugins built with the same framework as Liner Notes, for the tests and the
//! benchmark (not installed, not shipped):
//! - `Null`: stereo pass-through whose `process()` does nothing: the cost floor of a nice-plug
//!   plugin, the baseline the benchmark compares Liner Notes against.
//! - `NullSampleAccurate`: the same, configured like Liner Notes (its parameters and nice-plug's
//!   sample-accurate automation, which Liner Notes needs to place marks on their exact sample):
//!   separates what the framework charges for that mode from what Liner Notes itself costs.
//! - `AllocProbe`: allocates in `process()`, so the tests can show that the allocation guard
//!   they rely on really fires in this build.

use nice_plug::prelude::*;
use std::num::NonZeroU32;
use std::sync::Arc;

#[derive(Params, Default)]
struct NoParams {}

const STEREO: &[AudioIOLayout] = &[AudioIOLayout {
    main_input_channels: NonZeroU32::new(2),
    main_output_channels: NonZeroU32::new(2),
    ..AudioIOLayout::const_default()
}];

#[derive(Default)]
struct Null {
    params: Arc<NoParams>,
}

impl Plugin for Null {
    const NAME: &'static str = "Null Reference";
    const VENDOR: &'static str = "Liner Notes tests";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = "0.0.0";
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = STEREO;
    type Editor = ();
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    /// Does nothing, but opaquely: a real plugin's `process()` cannot be seen through by the
    /// optimizer, so the framework must prepare the buffers and the transport for it. Without
    /// the `black_box`, LTO deletes nice-plug's transport decoding for this plugin alone and
    /// the comparison would charge that framework cost to Liner Notes.
    #[inline(never)]
    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        std::hint::black_box((buffer, aux, context));
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Null {
    const CLAP_ID: &'static str = "org.linernotes.test.null";
    const CLAP_DESCRIPTION: Option<&'static str> = None;
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect];
}

/// Liner Notes' parameters, so the framework does the same per-block parameter work.
#[derive(Params)]
struct LinerLikeParams {
    #[id = "mark"]
    mark: BoolParam,
    #[id = "bypass"]
    bypass: BoolParam,
}

impl Default for LinerLikeParams {
    fn default() -> Self {
        LinerLikeParams {
            mark: BoolParam::new("Mark", false),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

#[derive(Default)]
struct NullSampleAccurate {
    params: Arc<LinerLikeParams>,
}

impl Plugin for NullSampleAccurate {
    const NAME: &'static str = "Null Reference (sample-accurate)";
    const VENDOR: &'static str = "Liner Notes tests";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = "0.0.0";
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = STEREO;
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;
    type Editor = ();
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    /// As `Null::process`: nothing, opaquely.
    #[inline(never)]
    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        std::hint::black_box((buffer, aux, context));
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for NullSampleAccurate {
    const CLAP_ID: &'static str = "org.linernotes.test.null-sample-accurate";
    const CLAP_DESCRIPTION: Option<&'static str> = None;
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect];
}

#[derive(Default)]
struct AllocProbe {
    params: Arc<NoParams>,
}

impl Plugin for AllocProbe {
    const NAME: &'static str = "Alloc Probe";
    const VENDOR: &'static str = "Liner Notes tests";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = "0.0.0";
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = STEREO;
    type Editor = ();
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // Deliberately wrong: a heap allocation on the audio thread.
        let scratch: Vec<f32> = Vec::with_capacity(buffer.samples() + 1);
        std::hint::black_box(scratch);
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for AllocProbe {
    const CLAP_ID: &'static str = "org.linernotes.test.alloc-probe";
    const CLAP_DESCRIPTION: Option<&'static str> = None;
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect];
}

nice_export_clap!(Null, NullSampleAccurate, AllocProbe);
