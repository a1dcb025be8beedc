#![no_main]
//! `chorus_fuzz::api::signature` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::api::signature(data));
