#![no_main]
//! `chorus_fuzz::api::rejection` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::api::rejection(data));
