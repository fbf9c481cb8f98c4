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

const STEREO: &[AudioIOLayout] = &[AudioIOLayout {
    main_input_channels: NonZeroU32::new(2),
    main_output_channels: NonZeroU32::new(2),
    ..AudioIOLayout::const_default()
}];

/// One stereo reference plugin: its type, parameters, name, CLAP id, whether nice-plug splits
/// blocks at parameter changes, and its `process()` body (never inlined into the wrapper: a
/// real plugin's `process()` is opaque to the optimizer too).
macro_rules! reference_plugin {
    (
        $ty:ident, $params:ty, $name:literal, $id:literal, sample_accurate: $sa:literal,
        |$buffer:ident, $aux:ident, $context:ident| $body:block
    ) => {
        #[derive(Default)]
        struct $ty {
            params: Arc<$params>,
        }

        impl Plugin for $ty {
            const NAME: &'static str = $name;
            const VENDOR: &'static str = "Liner Notes tests";
            const URL: &'static str = "";
            const EMAIL: &'static str = "";
            const VERSION: &'static str = "0.0.0";
            const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = STEREO;
            const SAMPLE_ACCURATE_AUTOMATION: bool = $sa;
            type Editor = ();
            type SysExMessage = ();
            type BackgroundTask = ();

            fn params(&self) -> Arc<dyn Params> {
                self.params.clone()
            }

            #[inline(never)]
            fn process(
                &mut self,
                $buffer: &mut Buffer,
                $aux: &mut AuxiliaryBuffers,
                $context: &mut impl ProcessContext<Self>,
            ) -> ProcessStatus {
                $body
                ProcessStatus::KeepAlive
            }
        }

        impl ClapPlugin for $ty {
            const CLAP_ID: &'static str = $id;
            const CLAP_DESCRIPTION: Option<&'static str> = None;
            const CLAP_MANUAL_URL: Option<&'static str> = None;
            const CLAP_SUPPORT_URL: Option<&'static str> = None;
            const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect];
        }
    };
}

// Does nothing, but opaquely: without the `black_box`, LTO deletes nice-plug's transport
// decoding for this plugin alone and the comparison would charge that framework cost to
// Liner Notes.
reference_plugin!(Null, NoParams, "Null Reference", "org.linernotes.test.null",
sample_accurate: false, |buffer, aux, context| {
    std::hint::black_box((buffer, aux, context));
});

reference_plugin!(NullSampleAccurate, LinerLikeParams, "Null Reference (sample-accurate)",
"org.linernotes.test.null-sample-accurate", sample_accurate: true, |buffer, aux, context| {
    std::hint::black_box((buffer, aux, context));
});

reference_plugin!(AllocProbe, NoParams, "Alloc Probe", "org.linernotes.test.alloc-probe",
sample_accurate: false, |buffer, _aux, _context| {
    // Deliberately wrong: a heap allocation on the audio thread.
    let scratch: Vec<f32> = Vec::with_capacity(buffer.samples() + 1);
    std::hint::black_box(scratch);
});

nice_export_clap!(Null, NullSampleAccurate, AllocProbe);
