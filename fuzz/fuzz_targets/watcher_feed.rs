#![no_main]
//! `chorus_fuzz::watcher::feed` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| chorus_fuzz::watcher::feed(data));
