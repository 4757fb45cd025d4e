//! `backstock risk-eval` without the rest of the CLI:
//! `cargo run --release -p backstock-risk-eval --example risk-eval -- --seeds 10`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "risk-eval")]
struct Cli {
    #[command(flatten)]
    args: backstock_risk_eval::Args,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match rt.block_on(backstock_risk_eval::cli(cli.args)) {
        Ok(out) => {
            print!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", e.message());
            std::process::ExitCode::from(1)
        }
    }
}
