#![no_main]
//! `chorus_fuzz::proposal::proposal` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::proposal::proposal(data));
