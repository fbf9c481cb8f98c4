//! Liner Notes as a standalone app (JACK/ALSA, or `--backend dummy` with no audio device):
//! for trying the editor without a DAW, and for the README screenshot (`cargo xtask
//! screenshot`). Built only with the `standalone` feature.

fn main() {
    nice_plug::nice_export_standalone::<liner_notes::LinerNotes>();
}
