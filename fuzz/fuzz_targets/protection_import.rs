#![no_main]
//! `chorus_fuzz::protection::import` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::protection::import(data));
