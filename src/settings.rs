//! The instance settings and the user's config files live in `liner-record` (the server's
//! first run writes them too); re-exported here where the plugin uses them.

pub use liner_record::settings::*;
