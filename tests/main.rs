//! The one integration-test binary; each area of behaviour is a module.

mod approvals;
mod architecture;
mod assets;
mod blueprint_record;
mod capabilities;
mod check;
mod cli;
mod cli_surface;
mod cli_workspace;
mod closure;
mod containment;
mod contracts;
mod control;
mod daemon;
mod disk_full;
mod fake_cli;
mod fmt;
mod fuzz;
mod hardening;
mod harness;
mod lanes;
#[path = "fixtures/lanes/repo.rs"]
mod lanes_repo;
mod lanes_torture;
mod language_doc;
mod live;
mod loop_test;
mod names_agree;
mod os_manners;
mod reference_oracle;
mod reload;
mod runners;
mod runs_prune;
mod serve;
mod shipped;
mod skills;
mod skills_doc;
mod support;
mod torture;
mod workspace;

/// Every file under `tests/` that holds tests is a module of this binary.
#[test]
fn no_test_file_is_forgotten() {
    let main = std::fs::read_to_string("tests/main.rs").expect("tests/main.rs");
    for entry in std::fs::read_dir("tests").expect("tests dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if module != "main" {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/{name} is not declared in tests/main.rs"
            );
        }
    }
}
