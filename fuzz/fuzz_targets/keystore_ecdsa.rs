#![no_main]
//! `chorus_fuzz::keystore::ecdsa` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::keystore::ecdsa(data));
