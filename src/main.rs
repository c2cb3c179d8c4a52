//! The `quarry` executable: everything happens in [`quarry::cli`].

fn main() -> std::process::ExitCode {
    quarry::cli::main()
}
