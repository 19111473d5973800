//! Compiler benchmarks (run with `cargo bench --bench compile`): compiling
//! every shipped mode from a workspace on disk, and parse + check + lower of
//! generated loops of 1,000 and 10,000 nodes (cost should grow linearly).

use std::time::{Duration, Instant};

use millrace::check::{self, standalone};
use millrace::lower::{build, prove_termination};
use millrace::plan::{self, CompileOptions, load_sources, shipped_sources, workspace_reader};
use millrace::syntax::SourceMap;

const MODES: &[&str] = &[
    "default_codex",
    "default_pi",
    "default_codex_integrated",
    "blueprint_codex",
    "learning_codex",
    "learning_pi",
    "learning_codex_integrated",
    "blueprint_learning_codex",
    "demo",
];

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Writes the shipped sources and assets into a temporary `millrace-agents/`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in millrace::assets::shipped_files() {
        let path = dir.path().join(&file.relative_path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, file.contents).expect("write");
    }
    dir
}

fn compile_mode_from_disk(root: &std::path::Path, mode: &str) {
    let sources = load_sources(root).expect("sources");
    let options = CompileOptions::for_mode(mode);
    let compilation = plan::compile(sources, options, &workspace_reader(root));
    assert!(compilation.outcome.is_ok(), "{mode} compiles");
}

/// A loop of `n` nodes: a chain of builders with a checker every tenth node
/// whose `FIX_NEEDED` goes five nodes back within a budget.
fn generated_loop(n: usize) -> String {
    let mut text = String::from(
        "loop execution.generated {\n  budget retries = 2\n  entry task -> n0\n  catch BLOCKED -> stuck\n",
    );
    for i in 0..n {
        let next = if i + 1 == n {
            "done".to_string()
        } else {
            format!("n{}", i + 1)
        };
        if i % 10 == 9 {
            let back = i - 5;
            text.push_str(&format!(
                "  n{i}: checker {{\n    CHECKER_PASS -> {next}\n    FIX_NEEDED -> n{back} within retries else stuck\n  }}\n"
            ));
        } else {
            text.push_str(&format!(
                "  n{i}: builder {{ BUILDER_COMPLETE -> {next} }}\n"
            ));
        }
    }
    text.push_str("  final done: success\n  final stuck: blocked\n}\n");
    text
}

fn bench_generated(n: usize) {
    let text = generated_loop(n);
    let mut sources = shipped_sources();
    sources.add("generated.loop", text.clone());
    let parse = median(5, || {
        let _ = millrace::syntax::parse(millrace::syntax::FileId(0), &text);
    });
    let mut total_runs = 0;
    let all = median(5, || total_runs = parse_check_lower(&sources));
    println!(
        "generated loop, {n:>6} nodes: parse {}, parse+check+lower {} (max_stage_runs {total_runs})",
        ms(parse),
        ms(all)
    );
}

fn parse_check_lower(sources: &SourceMap) -> u64 {
    let checked = check::check(sources);
    assert!(!checked.diagnostics.has_errors(), "generated loop checks");
    let lp = &checked.program.loops["execution.generated"];
    prove_termination(&build(&standalone(lp), &[]))
        .expect("terminates")
        .max_stage_runs
}

fn main() {
    let dir = workspace();
    let mut total = Duration::ZERO;
    for mode in MODES {
        let t = median(21, || compile_mode_from_disk(dir.path(), mode));
        total += t;
        println!("compile {mode:<26} from a workspace: {}", ms(t));
    }
    println!("compile all {} shipped modes: {}", MODES.len(), ms(total));
    for n in [1_000, 10_000] {
        bench_generated(n);
    }
}
