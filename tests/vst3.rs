//! The VST3 side: load the library as a VST3 host does (ModuleEntry, GetPluginFactory), check
//! the factory, the class, the buses in both layouts, and that a component instantiates,
//! activates and passes audio through bit-exact.
//!
//! Loads the bundle's library (`target/bundled/Liner Notes.vst3/...`) when the test runs under
//! `cargo xtask test`, which bundles first; under a plain `cargo test` it loads the same cdylib
//! from `target/<profile>/deps/`.

mod common;

use common::vst3::{c_str, create_component, Module, CLASS_ID};
use vst3::ComPtr;
use vst3::Steinberg::Vst::{
    AudioBusBuffers, AudioBusBuffers__type0, BusDirections_, BusInfo, IAudioProcessor,
    IAudioProcessorTrait, IComponent, IComponentTrait, MediaTypes_, ProcessData, ProcessModes_,
    ProcessSetup, SpeakerArrangement, SymbolicSampleSizes_,
};
use vst3::Steinberg::{
    kResultOk, IPluginBaseTrait, IPluginFactory2, IPluginFactory2Trait, IPluginFactoryTrait,
    PClassInfo, PClassInfo2, PFactoryInfo,
};

const STEREO: SpeakerArrangement = 0b11;
const MONO: SpeakerArrangement = 0b1 << 19; // kSpeakerM

#[test]
fn the_factory_exposes_one_audio_effect_class_with_the_stable_id() {
    let module = Module::load();
    let factory = module.factory();
    // SAFETY: plain VST3 calls with valid out-pointers.
    unsafe {
        let mut info: PFactoryInfo = std::mem::zeroed();
        assert_eq!(factory.getFactoryInfo(&mut info), kResultOk);
        assert_eq!(c_str(&info.vendor), "Liner Notes");

        assert_eq!(factory.countClasses(), 1);
        let mut class: PClassInfo = std::mem::zeroed();
        assert_eq!(factory.getClassInfo(0, &mut class), kResultOk);
        assert_eq!(c_str(&class.name), "Liner Notes");
        assert_eq!(c_str(&class.category), "Audio Module Class");
        assert_eq!(class.cid.map(|b| b as u8), CLASS_ID);

        let f2 = factory.cast::<IPluginFactory2>().expect("IPluginFactory2");
        let mut class2: PClassInfo2 = std::mem::zeroed();
        assert_eq!(f2.getClassInfo2(0, &mut class2), kResultOk);
        assert_eq!(c_str(&class2.subCategories), "Fx|Tools|Analyzer");
    }
}

fn audio_bus_channels(component: &ComPtr<IComponent>) -> (i32, i32) {
    // SAFETY: plain VST3 calls with valid out-pointers.
    unsafe {
        let count = |dir| component.getBusCount(MediaTypes_::kAudio as i32, dir);
        assert_eq!(count(BusDirections_::kInput as i32), 1);
        assert_eq!(count(BusDirections_::kOutput as i32), 1);
        let channels = |dir| {
            let mut info: BusInfo = std::mem::zeroed();
            assert_eq!(
                component.getBusInfo(MediaTypes_::kAudio as i32, dir, 0, &mut info),
                kResultOk
            );
            info.channelCount
        };
        (
            channels(BusDirections_::kInput as i32),
            channels(BusDirections_::kOutput as i32),
        )
    }
}

#[test]
fn a_component_instantiates_with_stereo_and_mono_buses_and_zero_latency() {
    let module = Module::load();
    let factory = module.factory();
    let component = create_component(&factory);
    assert_eq!(audio_bus_channels(&component), (2, 2));
    let processor = component
        .cast::<IAudioProcessor>()
        .expect("IAudioProcessor");
    // SAFETY: plain VST3 calls with valid pointers.
    unsafe {
        let mut mono = [MONO];
        assert_eq!(
            processor.setBusArrangements(mono.as_mut_ptr(), 1, mono.as_mut_ptr(), 1),
            kResultOk
        );
        assert_eq!(audio_bus_channels(&component), (1, 1));
        let mut stereo = [STEREO];
        assert_eq!(
            processor.setBusArrangements(stereo.as_mut_ptr(), 1, stereo.as_mut_ptr(), 1),
            kResultOk
        );
        assert_eq!(audio_bus_channels(&component), (2, 2));
        assert_eq!(processor.getLatencySamples(), 0);
        assert_eq!(component.terminate(), kResultOk);
    }
}

#[test]
fn vst3_processing_is_bit_exact() {
    run_bit_exact(false);
}

/// Hosts such as REAPER hand the same buffers in and out.
#[test]
fn vst3_in_place_processing_is_bit_exact() {
    run_bit_exact(true);
}

fn run_bit_exact(in_place: bool) {
    let module = Module::load();
    let factory = module.factory();
    let component = create_component(&factory);
    let processor = component
        .cast::<IAudioProcessor>()
        .expect("IAudioProcessor");
    const N: usize = 256;
    let mut input: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..N)
                .map(|i| f32::from_bits(0x7f80_0001 + (i * 7919 + c) as u32 * 31))
                .collect()
        })
        .collect();
    let mut output = vec![vec![0.0f32; N]; 2];
    let expected = input.clone();
    // SAFETY: the buffers outlive the process call; pointers are valid for N samples.
    unsafe {
        let mut setup = ProcessSetup {
            processMode: ProcessModes_::kRealtime as i32,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            maxSamplesPerBlock: N as i32,
            sampleRate: 48_000.0,
        };
        assert_eq!(processor.setupProcessing(&mut setup), kResultOk);
        assert_eq!(component.setActive(1), kResultOk);
        assert_eq!(processor.setProcessing(1), kResultOk);

        let mut in_ptrs: Vec<*mut f32> = input.iter_mut().map(|c| c.as_mut_ptr()).collect();
        let mut out_ptrs: Vec<*mut f32> = if in_place {
            in_ptrs.clone()
        } else {
            output.iter_mut().map(|c| c.as_mut_ptr()).collect()
        };
        let mut in_bus = AudioBusBuffers {
            numChannels: 2,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: in_ptrs.as_mut_ptr(),
            },
        };
        let mut out_bus = AudioBusBuffers {
            numChannels: 2,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: out_ptrs.as_mut_ptr(),
            },
        };
        let mut data = ProcessData {
            processMode: ProcessModes_::kRealtime as i32,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            numSamples: N as i32,
            numInputs: 1,
            numOutputs: 1,
            inputs: &mut in_bus,
            outputs: &mut out_bus,
            inputParameterChanges: std::ptr::null_mut(),
            outputParameterChanges: std::ptr::null_mut(),
            inputEvents: std::ptr::null_mut(),
            outputEvents: std::ptr::null_mut(),
            processContext: std::ptr::null_mut(),
        };
        assert_eq!(processor.process(&mut data), kResultOk);
        assert_eq!(processor.setProcessing(0), kResultOk);
        assert_eq!(component.setActive(0), kResultOk);
        assert_eq!(component.terminate(), kResultOk);
    }
    let result = if in_place { &input } else { &output };
    for c in 0..2 {
        let i: Vec<u32> = expected[c].iter().map(|s| s.to_bits()).collect();
        let o: Vec<u32> = result[c].iter().map(|s| s.to_bits()).collect();
        assert_eq!(i, o, "channel {c}");
    }
}
