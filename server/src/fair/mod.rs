//! Fair shares: what keeps one client, session or project from taking the server from
//! everyone else. Each module holds one share and its numbers (the README's limits table
//! lists them all, with why):
//!
//! - [`connections`]: connections per client address and in all, where the longest-idle
//!   one makes way for a new one; the client address of every request ([`connections::Peer`]).
//! - [`floor`]: the floor rate every request body must keep up with.
//! - [`uploads`]: clip uploads judged before they wait, slots per server, project and
//!   token, and a floor rate under which a body is cut off.
//! - [`guesses`]: wrong tokens slow down the address that sends them (and, in a flood, every
//!   address that does), never the right token from elsewhere.
//! - [`guest_comments`]: comments guests leave through a listening link, per link and
//!   address.
//! - [`holds`]: live streams and long polls: shares per session and token, room kept for
//!   everything else, and an end when their session or token ends.

pub mod connections;
pub mod floor;
pub mod guesses;
pub mod guest_comments;
pub mod holds;
pub mod uploads;
