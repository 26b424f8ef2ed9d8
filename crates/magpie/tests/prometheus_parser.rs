//! The Prometheus text format parser in `support::prometheus`: a valid exposition parses to
//! the right families, samples and values, and each rule it enforces rejects an input that
//! breaks it, naming the line.

mod support;

use support::prometheus::*;

/// Asserts that `text` is rejected with an error on line `line` that mentions `needle`.
#[track_caller]
fn rejects(text: &str, line: usize, needle: &str) {
    let error = match parse(text) {
        Ok(exposition) => panic!("accepted invalid input {text:?} as {exposition:?}"),
        Err(error) => error,
    };
    assert!(
        error.starts_with(&format!("line {line}: ")),
        "error {error:?} does not name line {line} (input {text:?})"
    );
    assert!(
        error.contains(needle),
        "error {error:?} does not mention {needle:?} (input {text:?})"
    );
}

/// Parses `text`, panicking with the error if it is rejected.
#[track_caller]
fn accepts(text: &str) -> Exposition {
    parse(text).unwrap_or_else(|error| panic!("rejected {text:?}: {error}"))
}

const VALID: &str = r#"# A comment that is neither HELP nor TYPE.
# HELP magpie_tasks_spawned_total Tasks spawned, \\ all of them,\nsince start.
# TYPE magpie_tasks_spawned_total counter
magpie_tasks_spawned_total 42

# TYPE magpie_queue_depth gauge
# HELP magpie_queue_depth Tasks waiting.
magpie_queue_depth{worker="0",kind="local"} 3
magpie_queue_depth{kind="local",worker="1",} 0.5e1 1700000000000
magpie_queue_depth {worker = "2" , kind="a \"quoted\" \\ value\nwith a newline"}	-Inf
magpie_queue_depth{worker="3",kind="local"} NaN
magpie_queue_depth{} +Inf
# TYPE magpie_poll_seconds histogram
magpie_poll_seconds_bucket{worker="0",le="0.001"} 1
magpie_poll_seconds_bucket{worker="0",le="0.01"} 4
magpie_poll_seconds_bucket{worker="0",le="+Inf"} 5
magpie_poll_seconds_sum{worker="0"} 0.0375
magpie_poll_seconds_count{worker="0"} 5
magpie_poll_seconds_bucket{le="1e-3",worker="1"} 0
magpie_poll_seconds_bucket{worker="1",le="+Inf"} 0
magpie_poll_seconds_count{worker="1"} 0
magpie_poll_seconds_sum{worker="1"} 0
# TYPE magpie_latency summary
magpie_latency{quantile="0.5"} 0.25
magpie_latency{quantile="0.99"} NaN
magpie_latency_sum 10
magpie_latency_count 40
magpie_untyped_thing -1.5
"#;

#[test]
fn parses_a_valid_exposition() {
    let exposition = accepts(VALID);
    let names: Vec<&str> = exposition
        .families
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "magpie_tasks_spawned_total",
            "magpie_queue_depth",
            "magpie_poll_seconds",
            "magpie_latency",
            "magpie_untyped_thing",
        ]
    );

    let spawned = exposition.family("magpie_tasks_spawned_total").unwrap();
    assert_eq!(spawned.kind, Kind::Counter);
    assert_eq!(
        spawned.help.as_deref(),
        Some("Tasks spawned, \\ all of them,\nsince start.")
    );
    assert_eq!(
        exposition.value("magpie_tasks_spawned_total", &[]),
        Some(42.0)
    );

    let depth = exposition.family("magpie_queue_depth").unwrap();
    assert_eq!(depth.kind, Kind::Gauge);
    assert_eq!(depth.help.as_deref(), Some("Tasks waiting."));
    assert_eq!(depth.samples.len(), 5);
    assert_eq!(
        depth.samples[1],
        Sample {
            name: "magpie_queue_depth".to_string(),
            labels: vec![
                ("kind".to_string(), "local".to_string()),
                ("worker".to_string(), "1".to_string()),
            ],
            value: 5.0,
            timestamp: Some(1_700_000_000_000),
        }
    );
    assert_eq!(
        exposition.value("magpie_queue_depth", &[("worker", "0"), ("kind", "local")]),
        Some(3.0)
    );
    assert_eq!(
        exposition.value("magpie_queue_depth", &[("kind", "local"), ("worker", "0")]),
        Some(3.0),
        "label order does not matter"
    );
    assert_eq!(
        exposition.value("magpie_queue_depth", &[("worker", "0")]),
        None,
        "the label set must match exactly"
    );
    assert_eq!(
        exposition.value(
            "magpie_queue_depth",
            &[
                ("worker", "2"),
                ("kind", "a \"quoted\" \\ value\nwith a newline")
            ]
        ),
        Some(f64::NEG_INFINITY)
    );
    assert!(exposition
        .value("magpie_queue_depth", &[("worker", "3"), ("kind", "local")])
        .unwrap()
        .is_nan());
    assert_eq!(
        exposition.value("magpie_queue_depth", &[]),
        Some(f64::INFINITY)
    );
    assert_eq!(depth.samples[0].timestamp, None);

    let poll = exposition.family("magpie_poll_seconds").unwrap();
    assert_eq!(poll.kind, Kind::Histogram);
    assert_eq!(poll.help, None);
    assert_eq!(poll.samples.len(), 9);
    assert_eq!(
        exposition.value(
            "magpie_poll_seconds_bucket",
            &[("worker", "0"), ("le", "0.01")]
        ),
        Some(4.0)
    );
    assert_eq!(
        exposition.value("magpie_poll_seconds_sum", &[("worker", "0")]),
        Some(0.0375)
    );
    assert_eq!(
        exposition.value("magpie_poll_seconds_count", &[("worker", "1")]),
        Some(0.0)
    );
    assert_eq!(
        exposition.value("magpie_poll_seconds", &[("worker", "0")]),
        None
    );

    let latency = exposition.family("magpie_latency").unwrap();
    assert_eq!(latency.kind, Kind::Summary);
    assert_eq!(
        exposition.value("magpie_latency", &[("quantile", "0.5")]),
        Some(0.25)
    );
    assert_eq!(exposition.value("magpie_latency_count", &[]), Some(40.0));

    let untyped = exposition.family("magpie_untyped_thing").unwrap();
    assert_eq!(untyped.kind, Kind::Untyped);
    assert_eq!(untyped.samples[0].value, -1.5);

    assert!(exposition.family("magpie_nothing").is_none());
    assert_eq!(exposition.value("magpie_nothing", &[]), None);
}

#[test]
fn accepts_edge_cases_of_the_grammar() {
    assert!(accepts("").families.is_empty());
    assert!(accepts("\n\n# only a comment\n").families.is_empty());
    // Blanks around a line, a HELP without a docstring, metadata with no samples.
    let exposition = accepts("  # HELP a\n# TYPE b counter\n\t c 1 \n");
    assert_eq!(exposition.family("a").unwrap().help.as_deref(), Some(""));
    assert_eq!(exposition.family("b").unwrap().kind, Kind::Counter);
    assert!(exposition.family("b").unwrap().samples.is_empty());
    assert_eq!(exposition.value("c", &[]), Some(1.0));
    // Go-style decimals, a colon in a name, a negative timestamp, an explicit untyped.
    let exposition = accepts(
        "# TYPE ns:x untyped\nns:x{a=\"1\"} .5\nns:x{a=\"2\"} 5.\nns:x{a=\"3\"} -1E+3 -7\n",
    );
    assert_eq!(exposition.family("ns:x").unwrap().kind, Kind::Untyped);
    assert_eq!(exposition.value("ns:x", &[("a", "1")]), Some(0.5));
    assert_eq!(exposition.value("ns:x", &[("a", "2")]), Some(5.0));
    assert_eq!(
        exposition.family("ns:x").unwrap().samples[2].timestamp,
        Some(-7)
    );
    assert_eq!(exposition.value("ns:x", &[("a", "3")]), Some(-1000.0));
    // A counter of zero, and an untyped `x_bucket` with no histogram `x`.
    let exposition = accepts("# TYPE z counter\nz 0\nx_bucket{le=\"oops\"} 1\n");
    assert_eq!(exposition.family("x_bucket").unwrap().kind, Kind::Untyped);
}

#[test]
fn rejects_a_missing_final_newline() {
    rejects("a 1", 1, "newline");
    rejects("a 1\n\nb 2", 3, "newline");
}

#[test]
fn rejects_invalid_help_escapes() {
    rejects("a 1\n# HELP b tab\\there\n", 2, "escape `\\t`");
    rejects("# HELP b quote \\\" here\n", 1, "escape");
    rejects("# HELP b ends with \\\n", 1, "lone");
    rejects("# HELP\n", 1, "without a metric name");
}

#[test]
fn rejects_invalid_type_lines() {
    rejects("# TYPE a countr\n", 1, "unknown kind `countr`");
    rejects("# TYPE a Counter\n", 1, "unknown kind");
    rejects("# TYPE a\n", 1, "no kind");
    rejects("# TYPE a counter extra\n", 1, "unexpected text `extra`");
}

#[test]
fn rejects_invalid_metric_names() {
    rejects("ok 1\n1abc 2\n", 2, "invalid metric name `1abc`");
    rejects("a-b 1\n", 1, "unexpected character `-`");
    rejects("{a=\"b\"} 1\n", 1, "expected a metric name");
    rejects("# TYPE 9x gauge\n", 1, "invalid metric name `9x`");
    rejects("# HELP x.y doc\n", 1, "invalid metric name `x.y`");
}

#[test]
fn rejects_invalid_label_names() {
    rejects("a{1x=\"v\"} 1\n", 1, "invalid label name `1x`");
    rejects("a{x:y=\"v\"} 1\n", 1, "expected `=`");
    rejects("a{__name__=\"v\"} 1\n", 1, "reserved");
    rejects(
        "a{_ok=\"v\"} 1\na{b=\"1\",c=\"2\",b=\"3\"} 1\n",
        2,
        "duplicate label `b`",
    );
    rejects("a{,} 1\n", 1, "expected a label name");
}

#[test]
fn rejects_invalid_label_values() {
    rejects("a{b=\"x\\ty\"} 1\n", 1, "invalid escape `\\t`");
    rejects("a{b=\"open} 1\n", 1, "unterminated");
    rejects("a{b=unquoted} 1\n", 1, "expected `\"`");
    rejects("a{b=\"1\" c=\"2\"} 1\n", 1, "expected `,` or `}`");
    rejects("a{b=\"1\"\n", 1, "unterminated label set");
}

#[test]
fn rejects_invalid_values_and_timestamps() {
    rejects("a\n", 1, "has no value");
    rejects("a{b=\"1\"}\n", 1, "has no value");
    rejects("a{b=\"1\"}2\n", 1, "blank after the labels");
    for value in [
        "1.2.3", "inf", "Inf", "+inf", "nan", "0x10", "1e", ".", "1_000", "1e400", "--1",
    ] {
        rejects(
            &format!("a {value}\n"),
            1,
            &format!("invalid sample value `{value}`"),
        );
    }
    rejects("a 1 1.5\n", 1, "invalid timestamp `1.5`");
    rejects("a 1 99999999999999999999\n", 1, "invalid timestamp");
    rejects("a 1 2 3\n", 1, "unexpected text `3`");
}

#[test]
fn rejects_a_second_help_or_type() {
    rejects(
        "# HELP a one\n# HELP a two\na 1\n",
        2,
        "second HELP line for `a` (the first is on line 1)",
    );
    rejects(
        "# TYPE a gauge\n# HELP a doc\n# TYPE a gauge\n",
        3,
        "second TYPE line",
    );
}

#[test]
fn rejects_metadata_after_samples() {
    rejects(
        "a 1\n# TYPE a counter\n",
        2,
        "TYPE line for `a` after its samples",
    );
    rejects(
        "# TYPE a gauge\na 1\n# HELP a doc\n",
        3,
        "HELP line for `a` after its samples",
    );
    // Samples named like a histogram's, then the histogram's TYPE.
    rejects(
        "x_bucket{le=\"+Inf\"} 1\n# TYPE x histogram\n",
        2,
        "x_bucket",
    );
    // Metadata for a name that is another family's sample name.
    rejects(
        "# TYPE x histogram\n# HELP x_count doc\n",
        2,
        "a sample name of histogram `x`",
    );
}

#[test]
fn rejects_families_that_are_not_contiguous() {
    rejects("a 1\nb 1\na{c=\"d\"} 2\n", 3, "must be contiguous");
    rejects(
        "# TYPE a counter\n# TYPE b gauge\na 1\n",
        3,
        "must be contiguous",
    );
    rejects(
        "# HELP a doc\n# HELP b doc\n# TYPE a gauge\n",
        3,
        "must be contiguous",
    );
    // A complete histogram, another family, then a further label set of the histogram.
    let histogram = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n";
    let resumed = "h_bucket{w=\"1\",le=\"+Inf\"} 1\n";
    rejects(
        &format!("{histogram}other 1\n{resumed}"),
        6,
        "must be contiguous",
    );
}

#[test]
fn rejects_samples_that_do_not_belong_to_their_family() {
    rejects(
        "# TYPE h histogram\nh 1\n",
        2,
        "does not belong to histogram `h`",
    );
    rejects("# TYPE s summary\n# TYPE s_sum gauge\n", 2, "s_sum");
}

#[test]
fn rejects_invalid_histograms() {
    let head = "# TYPE h histogram\n";
    // A bucket without `le`, with an `le` that is not a float, with an `le` of NaN.
    rejects(&format!("{head}h_bucket 1\n"), 2, "no `le` label");
    rejects(
        &format!("{head}h_bucket{{le=\"big\"}} 1\n"),
        2,
        "not a float",
    );
    rejects(
        &format!("{head}h_bucket{{le=\"NaN\"}} 1\n"),
        2,
        "not a float",
    );
    // `le` where it does not belong.
    rejects(&format!("{head}h_sum{{le=\"1\"}} 1\n"), 2, "only buckets");
    // Bounds that do not increase, counts that decrease.
    let bounds = "h_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 2\n";
    rejects(
        &format!("{head}{bounds}"),
        3,
        "does not follow a smaller bound",
    );
    let bounds = "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 2\n";
    rejects(
        &format!("{head}{bounds}"),
        3,
        "does not follow a smaller bound",
    );
    let counts = "h_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 4\n";
    rejects(&format!("{head}{counts}"), 3, "cumulative");
    // No +Inf bucket.
    let tail = "h_sum 1\nh_count 3\n";
    rejects(
        &format!("{head}h_bucket{{le=\"1\"}} 3\n{tail}"),
        4,
        "no bucket with le=\"+Inf\"",
    );
    rejects(&format!("{head}{tail}"), 3, "no bucket with le=\"+Inf\"");
    // `_count` differs from the +Inf bucket.
    let buckets = "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\n";
    rejects(
        &format!("{head}{buckets}h_sum 1\nh_count 2\n"),
        5,
        "`h_count` 2",
    );
    // No `_sum`, no `_count`; caught when the next family starts, or at the end.
    rejects(
        &format!("{head}{buckets}h_count 3\n"),
        4,
        "no `h_sum` sample",
    );
    rejects(
        &format!("{head}{buckets}h_sum 3\nnext 1\n"),
        4,
        "no `h_count` sample",
    );
    // Per label set: the second set lacks its +Inf bucket.
    let first = "h_bucket{w=\"0\",le=\"+Inf\"} 1\nh_sum{w=\"0\"} 1\nh_count{w=\"0\"} 1\n";
    let second = "h_bucket{w=\"1\",le=\"1\"} 1\nh_sum{w=\"1\"} 1\nh_count{w=\"1\"} 1\n";
    rejects(
        &format!("{head}{first}{second}"),
        7,
        "histogram `h`{w=\"1\"}",
    );
    // Negative or NaN counts.
    rejects(
        &format!("{head}h_bucket{{le=\"+Inf\"}} -1\n"),
        2,
        "neither negative nor NaN",
    );
    rejects(
        &format!("{head}h_count NaN\n"),
        2,
        "neither negative nor NaN",
    );
}

#[test]
fn rejects_invalid_summaries() {
    rejects("# TYPE s summary\ns 1\n", 2, "no `quantile` label");
    rejects(
        "# TYPE s summary\ns{quantile=\"half\"} 1\n",
        2,
        "not a float",
    );
    rejects(
        "# TYPE s summary\ns_sum{quantile=\"0.5\"} 1\n",
        2,
        "`quantile` label",
    );
    rejects(
        "# TYPE s summary\ns_count -1\n",
        2,
        "neither negative nor NaN",
    );
}

#[test]
fn rejects_negative_or_nan_counters() {
    rejects(
        "# TYPE c counter\nc{a=\"1\"} 1\nc{a=\"2\"} -1\n",
        3,
        "counter `c` has value -1",
    );
    rejects("# TYPE c counter\nc NaN\n", 2, "counter `c` has value NaN");
    rejects("# TYPE c counter\nc -Inf\n", 2, "counter");
}

#[test]
fn rejects_duplicate_samples() {
    rejects(
        "a 1\na 2\n",
        2,
        "duplicate sample `a` (the first is on line 1)",
    );
    rejects(
        "a{x=\"1\",y=\"2\"} 1\na{x=\"2\",y=\"1\"} 1\na{y=\"2\",x=\"1\"} 3\n",
        3,
        "duplicate sample",
    );
    let histogram = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_sum 1\n";
    rejects(histogram, 4, "duplicate sample `h_sum`");
}
