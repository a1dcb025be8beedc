#![no_main]
//! `chorus_fuzz::bls::verify` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::bls::verify(data));
