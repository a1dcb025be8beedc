//! A complete Chorus network on one machine (STUB: being written).
