//! The harness of the non-criterion figure binaries (`benches/timer_figures.rs`,
//! `benches/io_figures.rs`): each (figure, runtime) pair runs in a child process of its own
//! (the binary re-executed with a child flag), which prints one `RESULT key=value ...` line;
//! the parent prints tables and writes a JSON file for `scripts/bench_report.py`.
//!
//! Command line: cargo passes `--bench`; criterion-style flags are accepted and ignored;
//! other arguments are filters, `|`-separated alternatives each matched as a substring of a
//! figure name (`^` / `$` anchor one). `--list` lists the selected figures. Without `--bench`
//! (`cargo test --benches`) or with `--test`, a binary runs a quick smoke version and writes
//! no JSON.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{workers, WORKERS_ENV};

/// Named numbers, in the order measured.
pub type Stats = Vec<(String, f64)>;

/// The runtimes compared, in table order.
pub const RUNTIMES: [&str; 3] = ["magpie", "tokio", "smol"];

/// Prefix of the result line a child prints on stdout.
const RESULT_PREFIX: &str = "RESULT";

/// One figure binary's names and files.
pub struct FigureBench {
    /// The bench target's name (`timer_figures`), for messages and the typed command.
    pub name: &'static str,
    /// First argument of a child process.
    pub child_flag: &'static str,
    /// Every figure, in run order.
    pub figures: &'static [&'static str],
    /// Environment knobs shown in the typed command when set (besides the worker count).
    pub knobs: &'static [&'static str],
    /// Environment variable overriding the JSON file's path.
    pub json_env: &'static str,
    /// The JSON file's name in the target directory.
    pub json_file: &'static str,
    /// Set by `scripts/bench.sh`: the command as typed, recorded in the JSON.
    pub command_env: &'static str,
}

/// What the parent was asked to run.
pub struct Selection {
    /// A smoke run: small sizes, no JSON.
    pub quick: bool,
    /// The filter arguments.
    pub filters: Vec<String>,
    /// The figures they select, in run order.
    pub selected: Vec<&'static str>,
}

impl Selection {
    /// Whether `figure` is to run.
    pub fn runs(&self, figure: &str) -> bool {
        self.selected.contains(&figure)
    }
}

impl FigureBench {
    /// Reads the command line. In a child process, runs `child` with the arguments after the
    /// child flag and returns `None`; with `--list`, lists the selected figures and returns
    /// `None`; when no figure is selected, says so and returns `None`.
    pub fn start(&self, child: impl FnOnce(&[String])) -> Option<Selection> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().map(String::as_str) == Some(self.child_flag) {
            child(&args[1..]);
            return None;
        }
        let quick = !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test");
        let filters: Vec<String> = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .cloned()
            .collect();
        let selected: Vec<&'static str> = self
            .figures
            .iter()
            .copied()
            .filter(|f| filters.is_empty() || filters.iter().any(|filter| matches(f, filter)))
            .collect();
        if args.iter().any(|a| a == "--list") {
            for figure in selected {
                println!("{figure}: figure");
            }
            return None;
        }
        if selected.is_empty() {
            println!(
                "{}: no figure matches {filters:?} (figures: {:?})",
                self.name, self.figures
            );
            return None;
        }
        Some(Selection {
            quick,
            filters,
            selected,
        })
    }

    /// Runs `figure` for `runtime` in a fresh process (`child_flag figure runtime args...`)
    /// and parses its `RESULT` line.
    pub fn run_child(&self, figure: &str, runtime: &str, args: &[String]) -> Stats {
        let exe = std::env::current_exe().expect("cannot find this benchmark's executable");
        let output = Command::new(exe)
            .args([self.child_flag, figure, runtime])
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("cannot start the child process");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{figure} on {runtime} failed ({}); stdout:\n{stdout}",
            output.status
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(RESULT_PREFIX))
            .unwrap_or_else(|| {
                panic!("{figure} on {runtime}: no {RESULT_PREFIX} line in\n{stdout}")
            });
        line.split_whitespace()
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("RESULT fields are key=value");
                let v: f64 = v.parse().expect("RESULT values are numbers");
                (k.to_string(), v)
            })
            .collect()
    }

    /// Ends the parent: a smoke run says it wrote nothing; a real one writes the JSON
    /// document of `sections` (from [`json_section`]).
    pub fn finish(&self, selection: &Selection, sections: &[String]) {
        if selection.quick {
            println!(
                "\n{}: quick run (no --bench, or --test): no JSON written",
                self.name
            );
            return;
        }
        let path = self.json_path();
        let json = self.json_document(sections, &selection.filters);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        std::fs::write(&path, json)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        println!("\n{}: wrote {}", self.name, path.display());
    }

    fn json_document(&self, sections: &[String], filters: &[String]) -> String {
        let command =
            std::env::var(self.command_env).unwrap_or_else(|_| self.typed_command(filters));
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let mut s = String::from("{\n");
        let _ = writeln!(s, "  \"command\": {},", json_string(&command));
        let _ = writeln!(s, "  \"written_unix\": {},", json_number(unix));
        let _ = writeln!(s, "  \"workers\": {},", workers());
        s.push_str(&sections.join(",\n"));
        s.push_str("\n}\n");
        s
    }

    /// The command that reproduces this run, with the knobs that were set.
    fn typed_command(&self, filters: &[String]) -> String {
        let mut s = String::new();
        for var in std::iter::once(&WORKERS_ENV).chain(self.knobs) {
            if let Ok(v) = std::env::var(var) {
                let _ = write!(s, "{var}={v} ");
            }
        }
        let _ = write!(s, "cargo bench -p magpie-benches --bench {}", self.name);
        if !filters.is_empty() {
            s.push_str(" -- ");
            s.push_str(&filters.join(" "));
        }
        s
    }

    /// `$json_env`, else `json_file` in the target directory (criterion's results are in its
    /// `criterion/`).
    fn json_path(&self) -> PathBuf {
        if let Ok(p) = std::env::var(self.json_env) {
            return PathBuf::from(p);
        }
        if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                return dir.join(self.json_file);
            }
        }
        // <target>/<profile>/deps/<this binary>
        let exe = std::env::current_exe().expect("cannot find this benchmark's executable");
        exe.ancestors()
            .nth(3)
            .expect("the benchmark binary is not inside a cargo target directory")
            .join(self.json_file)
    }
}

/// In a child process: prints the `RESULT` line the parent parses.
pub fn print_result(stats: &Stats) {
    let fields: Vec<String> = stats.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("{RESULT_PREFIX} {}", fields.join(" "));
}

/// The value named `key` in a child's result.
pub fn lookup(stats: &Stats, key: &str) -> f64 {
    stats
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("the child's result has no {key}: {stats:?}"))
}

/// The median (mean of the middle two for an even count); NaN for none.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The CPUs this process may run on.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// `"figure": { settings..., "runtimes": { "magpie": { stats... }, ... } }`
pub fn json_section(
    figure: &str,
    settings: &[(&str, f64)],
    per_runtime: &[(&str, Stats)],
) -> String {
    let mut s = format!("  \"{figure}\": {{\n");
    for (k, v) in settings {
        let _ = writeln!(s, "    \"{k}\": {},", json_number(*v));
    }
    s.push_str("    \"runtimes\": {\n");
    for (i, (rt, stats)) in per_runtime.iter().enumerate() {
        let fields: Vec<String> = stats
            .iter()
            .map(|(k, v)| format!("\"{k}\": {}", json_number(*v)))
            .collect();
        let comma = if i + 1 < per_runtime.len() { "," } else { "" };
        let _ = writeln!(s, "      \"{rt}\": {{{}}}{comma}", fields.join(", "));
    }
    s.push_str("    }\n  }");
    s
}

/// Whether `figure` is selected by `filter`: a criterion-style regex reduced to what figure
/// names need, `|`-separated alternatives each matched as a substring (a leading `^` /
/// trailing `$` anchors it).
fn matches(figure: &str, filter: &str) -> bool {
    filter.split('|').any(|alt| {
        let (start, alt) = match alt.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, alt),
        };
        let (end, alt) = match alt.strip_suffix('$') {
            Some(rest) => (true, rest),
            None => (false, alt),
        };
        match (start, end) {
            (true, true) => figure == alt,
            (true, false) => figure.starts_with(alt),
            (false, true) => figure.ends_with(alt),
            (false, false) => figure.contains(alt),
        }
    })
}

/// A JSON number (`null` for NaN and infinities).
pub fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
