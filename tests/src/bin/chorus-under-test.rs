//! The `chorus` binary, built inside this package so that end-to-end tests
//! can run it as a process (`CARGO_BIN_EXE_chorus-under-test`): cargo only
//! builds the binaries of the package under test.

fn main() -> std::process::ExitCode {
    chorus::main_entry()
}
