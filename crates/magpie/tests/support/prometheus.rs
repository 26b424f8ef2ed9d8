//! A strict parser and validator for the Prometheus text exposition format, version 0.0.4,
//! for tests that check what `RuntimeMetrics::to_prometheus()` writes.
//!
//! [`parse`] accepts a text only if all of the following hold; the first violation is an
//! error that starts with `line N:` (1-based) and says what is wrong.
//!
//! * **Lines.** Lines are separated by `'\n'` and the text ends with one (an empty text is an
//!   empty exposition). Blanks (spaces and tabs) at the start and end of a line are ignored;
//!   a line that is empty after that is skipped.
//! * **Comments.** A line starting with `#` is a comment, unless its first token after the
//!   `#` is `HELP` or `TYPE`:
//!   * `# HELP <name> <docstring>`: the docstring is the rest of the line and may use the
//!     escapes `\\` and `\n` only.
//!   * `# TYPE <name> <kind>`: the kind is one of `counter`, `gauge`, `histogram`, `summary`,
//!     `untyped`, and nothing may follow it.
//! * **Samples.** `name[{label="value",...}] value [timestamp]`:
//!   * metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`;
//!   * label names match `[a-zA-Z_][a-zA-Z0-9_]*`, must not start with `__` (reserved), and
//!     appear at most once in a sample; blanks may surround the label set's punctuation, a
//!     trailing comma before `}` is allowed, and so is an empty `{}`;
//!   * label values are double-quoted and may use the escapes `\\`, `\"` and `\n` only;
//!   * the value follows at least one blank and is a float as Go writes one: a decimal with
//!     optional sign, fraction and exponent, or exactly `+Inf`, `-Inf` or `NaN` (decimals
//!     too large for an `f64` are rejected);
//!   * the optional timestamp follows at least one blank and is an integer (an `i64`).
//! * **Families.** Every `HELP`, `TYPE` and sample line belongs to a family:
//!   * a histogram `x` owns the samples `x_bucket`, `x_sum` and `x_count`; a summary `x` owns
//!     `x`, `x_sum` and `x_count`; any other family `x` owns the samples named `x`;
//!   * a sample that no family owns starts an untyped family of its own name;
//!   * two families may not claim the same sample name (a `TYPE x histogram` after samples
//!     named `x_bucket` is an error, for instance), and a `HELP` or `TYPE` may not name a
//!     sample that belongs to another family;
//!   * a family's lines are contiguous: once another family's line has appeared, no further
//!     line of an earlier family may follow;
//!   * `HELP` and `TYPE` appear at most once per family, both before its first sample.
//! * **Values.**
//!   * no two samples have the same name and label set (label order does not matter);
//!   * counter values are neither negative nor NaN;
//!   * a histogram's `_bucket` samples carry an `le` label that is a float other than NaN,
//!     its `_sum` and `_count` samples carry none, and bucket and `_count` values are neither
//!     negative nor NaN;
//!   * per histogram label set (all labels but `le`): bucket bounds strictly increase in order
//!     of appearance, bucket counts never decrease (they are cumulative), the last bucket is
//!     `le="+Inf"` and equals `_count`, and both `_sum` and `_count` are present;
//!   * a summary's own samples carry a `quantile` label that is a float, its `_sum` and
//!     `_count` samples carry none, and `_count` values are neither negative nor NaN.
// Each test binary that includes this module uses a part of it; its items are `pub` for
// `use support::prometheus::*`, though a test binary exports nothing.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

/// A parsed exposition: its metric families in the order they first appear.
#[derive(Debug)]
pub struct Exposition {
    /// The families, in order of their first line.
    pub families: Vec<Family>,
}

/// One metric family: its metadata and its samples in order of appearance.
#[derive(Debug)]
pub struct Family {
    /// The family's name (for a histogram `x`, `x` and not `x_bucket`).
    pub name: String,
    /// The unescaped `HELP` docstring, if the family has a `HELP` line.
    pub help: Option<String>,
    /// The `TYPE` kind; [`Kind::Untyped`] where the family has no `TYPE` line.
    pub kind: Kind,
    /// The family's samples, in order of appearance.
    pub samples: Vec<Sample>,
}

/// A family's kind, as a `TYPE` line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `counter`: a value that only goes up.
    Counter,
    /// `gauge`: a value that goes up and down.
    Gauge,
    /// `histogram`: cumulative `_bucket` counts plus `_sum` and `_count`.
    Histogram,
    /// `summary`: `quantile` samples plus `_sum` and `_count`.
    Summary,
    /// `untyped`, or no `TYPE` line at all.
    Untyped,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's metric name (`x_bucket`, not `x`, for a histogram's buckets).
    pub name: String,
    /// The labels in the order written, values unescaped.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds, if the line has one.
    pub timestamp: Option<i64>,
}

impl Exposition {
    /// The family named `name` (for a histogram, its name without a suffix).
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|family| family.name == name)
    }

    /// The value of the sample named `sample_name` whose label set is exactly `labels`, in any
    /// order (no label more, none less).
    pub fn value(&self, sample_name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.families
            .iter()
            .flat_map(|family| &family.samples)
            .find(|sample| sample.name == sample_name && same_label_set(&sample.labels, labels))
            .map(|sample| sample.value)
    }
}

/// Parses and validates `text` against the rules in this module's documentation.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut parser = Parser::default();
    if !text.is_empty() {
        let Some(body) = text.strip_suffix('\n') else {
            let last = text.split('\n').count();
            return Err(format!("line {last}: the text does not end with a newline"));
        };
        for (index, line) in body.split('\n').enumerate() {
            parser
                .line(index + 1, line)
                .map_err(Problem::into_message)?;
        }
        if let Some(last) = parser.families.len().checked_sub(1) {
            parser.finish_family(last).map_err(Problem::into_message)?;
        }
    }
    Ok(Exposition {
        families: parser.families,
    })
}

/// The blanks that separate tokens: space and tab.
const BLANKS: &[char] = &[' ', '\t'];

/// The parser's state between lines.
#[derive(Default)]
struct Parser {
    /// The families so far; the last one is the only one that may still get lines.
    families: Vec<Family>,
    /// Bookkeeping for each family, parallel to `families`.
    notes: Vec<Notes>,
    /// Family index by family name.
    by_name: HashMap<String, usize>,
    /// Family index by each sample name a family owns.
    owners: HashMap<String, usize>,
    /// The line of each sample so far, by name and sorted label set.
    seen: HashMap<(String, Vec<(String, String)>), usize>,
}

/// Where a family's lines were, for error messages and the rules on metadata.
#[derive(Default)]
struct Notes {
    /// The family's first line.
    first_line: usize,
    /// The line of its `HELP`, if any.
    help_line: Option<usize>,
    /// The line of its `TYPE`, if any.
    type_line: Option<usize>,
    /// The line of each of its samples, parallel to `Family::samples`.
    sample_lines: Vec<usize>,
}

impl Parser {
    /// Handles line `number` (1-based).
    fn line(&mut self, number: usize, line: &str) -> Result<(), Problem> {
        let content = line.trim_matches(BLANKS);
        if content.is_empty() {
            return Ok(());
        }
        match content.strip_prefix('#') {
            Some(comment) => {
                let (keyword, rest) = split_token(comment.trim_start_matches(BLANKS));
                match keyword {
                    "HELP" => self.help(number, rest),
                    "TYPE" => self.type_line(number, rest),
                    _ => Ok(()),
                }
            }
            None => {
                let sample = parse_sample(content).map_err(Problem::at(number))?;
                self.sample(number, sample)
            }
        }
    }

    /// `# HELP <name> <docstring>`, `rest` being what follows `HELP`.
    fn help(&mut self, number: usize, rest: &str) -> Result<(), Problem> {
        let (name, docstring) = split_token(rest.trim_start_matches(BLANKS));
        let docstring =
            unescape_help(docstring.trim_start_matches(BLANKS)).map_err(Problem::at(number))?;
        let index = self.metadata_family(number, name, "HELP")?;
        if let Some(first) = self.notes[index].help_line {
            let message = format!("a second HELP line for `{name}` (the first is on line {first})");
            return Err(Problem::new(number, message));
        }
        self.notes[index].help_line = Some(number);
        self.families[index].help = Some(docstring);
        Ok(())
    }

    /// `# TYPE <name> <kind>`, `rest` being what follows `TYPE`.
    fn type_line(&mut self, number: usize, rest: &str) -> Result<(), Problem> {
        let at = Problem::at(number);
        let (name, rest) = split_token(rest.trim_start_matches(BLANKS));
        let (keyword, extra) = split_token(rest.trim_start_matches(BLANKS));
        let kind = match keyword {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            "untyped" => Kind::Untyped,
            "" => return Err(at(format!("TYPE line for `{name}` names no kind"))),
            other => {
                return Err(at(format!(
                    "unknown kind `{other}` in TYPE line for `{name}`"
                )))
            }
        };
        if !extra.is_empty() {
            return Err(at(format!(
                "unexpected text `{}` after the kind",
                extra.trim()
            )));
        }
        let index = self.metadata_family(number, name, "TYPE")?;
        if let Some(first) = self.notes[index].type_line {
            let message = format!("a second TYPE line for `{name}` (the first is on line {first})");
            return Err(at(message));
        }
        self.notes[index].type_line = Some(number);
        self.set_kind(number, index, kind)
    }

    /// The family a `HELP` or `TYPE` line for `name` belongs to, creating it if it is new.
    fn metadata_family(&mut self, number: usize, name: &str, what: &str) -> Result<usize, Problem> {
        let at = Problem::at(number);
        if name.is_empty() {
            return Err(at(format!("{what} line without a metric name")));
        }
        if !is_metric_name(name) {
            return Err(at(format!("invalid metric name `{name}` in {what} line")));
        }
        if let Some(&index) = self.by_name.get(name) {
            if let Some(&first) = self.notes[index].sample_lines.first() {
                return Err(at(format!(
                    "{what} line for `{name}` after its samples (the first is on line {first})"
                )));
            }
            self.check_current(number, index)?;
            return Ok(index);
        }
        if let Some(&owner) = self.owners.get(name) {
            let family = &self.families[owner];
            return Err(at(format!(
                "{what} line for `{name}`, a sample name of {} `{}`",
                kind_name(family.kind),
                family.name
            )));
        }
        self.new_family(number, name)
    }

    /// A sample line, already parsed.
    fn sample(&mut self, number: usize, sample: Sample) -> Result<(), Problem> {
        let at = Problem::at(number);
        let index = match self.owners.get(&sample.name) {
            Some(&index) => index,
            None => match self.by_name.get(&sample.name) {
                Some(&index) => {
                    let family = &self.families[index];
                    return Err(at(format!(
                        "sample `{}` does not belong to {} `{}`, whose samples are named {}",
                        sample.name,
                        kind_name(family.kind),
                        family.name,
                        owned_names(family.kind, &family.name).join(", ")
                    )));
                }
                None => self.new_family(number, &sample.name)?,
            },
        };
        self.check_current(number, index)?;
        check_sample(&self.families[index], &sample).map_err(&at)?;
        let key = (sample.name.clone(), sorted(&sample.labels));
        if let Some(first) = self.seen.insert(key, number) {
            return Err(at(format!(
                "duplicate sample `{}{}` (the first is on line {first})",
                sample.name,
                show_labels(&sample.labels)
            )));
        }
        self.families[index].samples.push(sample);
        self.notes[index].sample_lines.push(number);
        Ok(())
    }

    /// Fails unless family `index` is the last one started: a family's lines are contiguous.
    fn check_current(&self, number: usize, index: usize) -> Result<(), Problem> {
        let last = self.families.len() - 1;
        if index == last {
            return Ok(());
        }
        let family = &self.families[index];
        let later = &self.families[last];
        Err(Problem::new(
            number,
            format!(
                "family `{}` (started on line {}) resumes after family `{}` (started on line {}): \
             a family's lines must be contiguous",
                family.name, self.notes[index].first_line, later.name, self.notes[last].first_line
            ),
        ))
    }

    /// Starts an untyped family `name` on line `number`, after finishing the previous one.
    fn new_family(&mut self, number: usize, name: &str) -> Result<usize, Problem> {
        if let Some(previous) = self.families.len().checked_sub(1) {
            self.finish_family(previous)?;
        }
        let index = self.families.len();
        self.families.push(Family {
            name: name.to_string(),
            help: None,
            kind: Kind::Untyped,
            samples: Vec::new(),
        });
        self.notes.push(Notes {
            first_line: number,
            ..Notes::default()
        });
        self.by_name.insert(name.to_string(), index);
        self.claim(number, index, Kind::Untyped)?;
        Ok(index)
    }

    /// Gives family `index` (which has no samples yet) the kind `kind`, and with it the sample
    /// names that kind owns.
    fn set_kind(&mut self, number: usize, index: usize, kind: Kind) -> Result<(), Problem> {
        let family = &self.families[index];
        for owned in owned_names(family.kind, &family.name) {
            self.owners.remove(&owned);
        }
        self.families[index].kind = kind;
        self.claim(number, index, kind)
    }

    /// Records family `index` as the owner of the sample names of `kind`, failing if another
    /// family has one already.
    fn claim(&mut self, number: usize, index: usize, kind: Kind) -> Result<(), Problem> {
        let name = &self.families[index].name;
        for owned in owned_names(kind, name) {
            let claimant = self.by_name.get(&owned).or_else(|| self.owners.get(&owned));
            if let Some(&other) = claimant.filter(|&&other| other != index) {
                return Err(Problem::new(
                    number,
                    format!(
                    "{} `{name}` would own samples named `{owned}`, which belong to family `{}` \
                     (started on line {})",
                    kind_name(kind),
                    self.families[other].name,
                    self.notes[other].first_line
                ),
                ));
            }
            self.owners.insert(owned, index);
        }
        Ok(())
    }

    /// The checks that need all of a family's samples: for a histogram, the rules on each
    /// label set's buckets, `_sum` and `_count`.
    fn finish_family(&self, index: usize) -> Result<(), Problem> {
        let family = &self.families[index];
        if family.kind != Kind::Histogram {
            return Ok(());
        }
        let mut groups: Vec<BucketGroup> = Vec::new();
        for (sample, &line) in family.samples.iter().zip(&self.notes[index].sample_lines) {
            let key: Vec<(String, String)> = sorted(&sample.labels)
                .into_iter()
                .filter(|(name, _)| name != "le")
                .collect();
            let position = match groups.iter().position(|group| group.key == key) {
                Some(position) => position,
                None => {
                    groups.push(BucketGroup::new(key));
                    groups.len() - 1
                }
            };
            let group = &mut groups[position];
            group.last_line = line;
            let suffix = &sample.name[family.name.len()..];
            match suffix {
                "_bucket" => {
                    // `check_sample` made sure the `le` label exists and is a float.
                    let le = label(&sample.labels, "le")
                        .and_then(parse_float)
                        .unwrap_or(f64::NAN);
                    if let Some(&(previous_le, previous_count)) = group.buckets.last() {
                        if le <= previous_le {
                            return Err(Problem::new(
                                line,
                                format!(
                                    "histogram bucket le=\"{}\" does not follow a \
                                 smaller bound (the previous bucket is le=\"{}\")",
                                    show_float(le),
                                    show_float(previous_le)
                                ),
                            ));
                        }
                        if sample.value < previous_count {
                            return Err(Problem::new(
                                line,
                                format!(
                                    "histogram bucket le=\"{}\" counts {} but the \
                                 previous bucket counts {}: bucket counts are cumulative",
                                    show_float(le),
                                    show_float(sample.value),
                                    show_float(previous_count)
                                ),
                            ));
                        }
                    }
                    group.buckets.push((le, sample.value));
                }
                "_sum" => group.has_sum = true,
                _ => group.count = Some((sample.value, line)),
            }
        }
        for group in &groups {
            let what = format!("histogram `{}`{}", family.name, show_labels(&group.key));
            let last_line = group.last_line;
            let infinite = match group.buckets.last() {
                Some(&(le, count)) if le == f64::INFINITY => count,
                _ => {
                    return Err(Problem::new(
                        last_line,
                        format!("{what} has no bucket with le=\"+Inf\""),
                    ))
                }
            };
            let Some((count, count_line)) = group.count else {
                return Err(Problem::new(
                    last_line,
                    format!("{what} has no `{}_count` sample", family.name),
                ));
            };
            if count != infinite {
                return Err(Problem::new(
                    count_line,
                    format!(
                        "{what} has `{}_count` {} but its le=\"+Inf\" bucket \
                     counts {}",
                        family.name,
                        show_float(count),
                        show_float(infinite)
                    ),
                ));
            }
            if !group.has_sum {
                return Err(Problem::new(
                    last_line,
                    format!("{what} has no `{}_sum` sample", family.name),
                ));
            }
        }
        Ok(())
    }
}

/// A broken rule: the line that breaks it and what is wrong.
struct Problem {
    /// The 1-based line number.
    line: usize,
    /// What is wrong, without the line number.
    message: String,
}

impl Problem {
    /// The problem `message` on line `line`.
    fn new(line: usize, message: String) -> Problem {
        Problem { line, message }
    }

    /// A function that turns a message into a problem on line `line`.
    fn at(line: usize) -> impl Fn(String) -> Problem {
        move |message| Problem::new(line, message)
    }

    /// The error `parse` returns: `line N: message`.
    fn into_message(self) -> String {
        format!("line {}: {}", self.line, self.message)
    }
}

/// One histogram label set's samples, as `finish_family` collects them.
struct BucketGroup {
    /// The sorted labels other than `le`.
    key: Vec<(String, String)>,
    /// The line of the group's latest sample.
    last_line: usize,
    /// `(le, count)` of each bucket in order of appearance.
    buckets: Vec<(f64, f64)>,
    /// Whether a `_sum` sample appeared.
    has_sum: bool,
    /// The `_count` value and its line.
    count: Option<(f64, usize)>,
}

impl BucketGroup {
    /// A group for the label set `key`, with no samples yet.
    fn new(key: Vec<(String, String)>) -> Self {
        BucketGroup {
            key,
            last_line: 0,
            buckets: Vec::new(),
            has_sum: false,
            count: None,
        }
    }
}

/// The checks on one sample that depend on its family's kind.
fn check_sample(family: &Family, sample: &Sample) -> Result<(), String> {
    let suffix = &sample.name[family.name.len()..];
    let value = sample.value;
    let is_count = |value: f64| !value.is_nan() && value >= 0.0;
    match family.kind {
        Kind::Counter if !is_count(value) => Err(format!(
            "counter `{}` has value {}: counters are neither negative nor NaN",
            sample.name,
            show_float(value)
        )),
        Kind::Histogram => {
            let le = label(&sample.labels, "le");
            if suffix == "_bucket" {
                let Some(le) = le else {
                    return Err(format!(
                        "histogram bucket `{}` has no `le` label",
                        sample.name
                    ));
                };
                match parse_float(le) {
                    Some(bound) if !bound.is_nan() => {}
                    _ => {
                        return Err(format!(
                            "histogram bucket `{}` has le=\"{le}\", which is not a float other \
                             than NaN",
                            sample.name
                        ))
                    }
                }
            } else if le.is_some() {
                return Err(format!(
                    "`{}` has an `le` label; only buckets have one",
                    sample.name
                ));
            }
            if suffix != "_sum" && !is_count(value) {
                return Err(format!(
                    "`{}` has value {}: histogram counts are neither negative nor NaN",
                    sample.name,
                    show_float(value)
                ));
            }
            Ok(())
        }
        Kind::Summary => {
            let quantile = label(&sample.labels, "quantile");
            if suffix.is_empty() {
                let Some(quantile) = quantile else {
                    return Err(format!(
                        "summary sample `{}` has no `quantile` label",
                        sample.name
                    ));
                };
                if parse_float(quantile).is_none() {
                    return Err(format!(
                        "summary sample `{}` has quantile=\"{quantile}\", which is not a float",
                        sample.name
                    ));
                }
            } else if quantile.is_some() {
                return Err(format!(
                    "`{}` has a `quantile` label; only the summary's own samples have one",
                    sample.name
                ));
            }
            if suffix == "_count" && !is_count(value) {
                return Err(format!(
                    "`{}` has value {}: summary counts are neither negative nor NaN",
                    sample.name,
                    show_float(value)
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Parses a sample line, blanks at both ends already trimmed.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let mut cursor = Cursor { rest: line };
    let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if name.is_empty() {
        return Err(format!("expected a metric name, found `{line}`"));
    }
    if !is_metric_name(name) {
        return Err(format!("invalid metric name `{name}`"));
    }
    let blank_after_name = cursor.skip_blanks();
    let mut labels = Vec::new();
    if cursor.eat('{') {
        labels = parse_labels(&mut cursor)?;
        if !cursor.skip_blanks() {
            return Err(match cursor.peek() {
                None => format!("sample `{name}` has no value"),
                Some(_) => format!("expected a blank after the labels of `{name}`"),
            });
        }
    } else if !blank_after_name {
        return Err(match cursor.peek() {
            None => format!("sample `{name}` has no value"),
            Some(c) => format!("unexpected character `{c}` after metric name `{name}`"),
        });
    }
    let token = cursor.take_while(|c| !BLANKS.contains(&c));
    let value = parse_float(token).ok_or_else(|| format!("invalid sample value `{token}`"))?;
    let mut timestamp = None;
    if cursor.skip_blanks() {
        let token = cursor.take_while(|c| !BLANKS.contains(&c));
        let parsed = token
            .parse::<i64>()
            .map_err(|_| format!("invalid timestamp `{token}`: expected an integer"))?;
        timestamp = Some(parsed);
        if cursor.skip_blanks() {
            return Err(format!(
                "unexpected text `{}` after the timestamp",
                cursor.rest
            ));
        }
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
        timestamp,
    })
}

/// Parses a label set after its `{`, up to and including the `}`.
fn parse_labels(cursor: &mut Cursor<'_>) -> Result<Vec<(String, String)>, String> {
    let mut labels: Vec<(String, String)> = Vec::new();
    loop {
        cursor.skip_blanks();
        if cursor.eat('}') {
            return Ok(labels);
        }
        let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.is_empty() {
            return Err(match cursor.peek() {
                None => "unterminated label set: expected `}`".to_string(),
                Some(c) => format!("expected a label name or `}}`, found `{c}`"),
            });
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("invalid label name `{name}`"));
        }
        if name.starts_with("__") {
            return Err(format!(
                "label name `{name}` starts with `__`, which is reserved"
            ));
        }
        if labels.iter().any(|(other, _)| other == name) {
            return Err(format!("duplicate label `{name}`"));
        }
        cursor.skip_blanks();
        if !cursor.eat('=') {
            return Err(format!("expected `=` after label name `{name}`"));
        }
        cursor.skip_blanks();
        if !cursor.eat('"') {
            return Err(format!("expected `\"` to open the value of label `{name}`"));
        }
        let value = parse_label_value(cursor, name)?;
        labels.push((name.to_string(), value));
        cursor.skip_blanks();
        if !cursor.eat(',') {
            match cursor.peek() {
                Some('}') => {}
                None => return Err("unterminated label set: expected `}`".to_string()),
                Some(_) => {
                    return Err(format!(
                        "expected `,` or `}}` after the value of label `{name}`"
                    ))
                }
            }
        }
    }
}

/// Reads a label value after its opening quote, up to and including the closing quote,
/// resolving the escapes `\\`, `\"` and `\n`.
fn parse_label_value(cursor: &mut Cursor<'_>, name: &str) -> Result<String, String> {
    let mut value = String::new();
    loop {
        match cursor.bump() {
            None => return Err(format!("unterminated value of label `{name}`")),
            Some('"') => return Ok(value),
            Some('\\') => match cursor.bump() {
                Some('\\') => value.push('\\'),
                Some('"') => value.push('"'),
                Some('n') => value.push('\n'),
                Some(c) => {
                    return Err(format!(
                        "invalid escape `\\{c}` in the value of label `{name}`"
                    ))
                }
                None => return Err(format!("unterminated value of label `{name}`")),
            },
            Some(c) => value.push(c),
        }
    }
}

/// Resolves a `HELP` docstring's escapes, `\\` and `\n`.
fn unescape_help(docstring: &str) -> Result<String, String> {
    let mut text = String::new();
    let mut chars = docstring.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => text.push('\\'),
            Some('n') => text.push('\n'),
            Some(other) => return Err(format!("invalid escape `\\{other}` in HELP docstring")),
            None => return Err("HELP docstring ends with a lone `\\`".to_string()),
        }
    }
    Ok(text)
}

/// Parses a float as Go writes one: `+Inf`, `-Inf`, `NaN`, or a decimal
/// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?` that fits an `f64`.
fn parse_float(token: &str) -> Option<f64> {
    match token {
        "+Inf" => return Some(f64::INFINITY),
        "-Inf" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let mut cursor = Cursor { rest: token };
    let is_sign = |c: char| c == '+' || c == '-';
    cursor.take_while_max(is_sign, 1);
    let whole = cursor.take_while(|c| c.is_ascii_digit());
    let fraction = if cursor.eat('.') {
        cursor.take_while(|c| c.is_ascii_digit())
    } else {
        ""
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if cursor.eat('e') || cursor.eat('E') {
        cursor.take_while_max(is_sign, 1);
        if cursor.take_while(|c| c.is_ascii_digit()).is_empty() {
            return None;
        }
    }
    if !cursor.rest.is_empty() {
        return None;
    }
    token.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The sample names a family `name` of kind `kind` owns.
fn owned_names(kind: Kind, name: &str) -> Vec<String> {
    match kind {
        Kind::Histogram => vec![
            format!("{name}_bucket"),
            format!("{name}_sum"),
            format!("{name}_count"),
        ],
        Kind::Summary => vec![
            name.to_string(),
            format!("{name}_sum"),
            format!("{name}_count"),
        ],
        Kind::Counter | Kind::Gauge | Kind::Untyped => vec![name.to_string()],
    }
}

/// The keyword a `TYPE` line uses for `kind`.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
        Kind::Summary => "summary",
        Kind::Untyped => "untyped",
    }
}

/// Splits `text` at its first blank: the token before it and the rest from it on.
fn split_token(text: &str) -> (&str, &str) {
    text.split_at(text.find(BLANKS).unwrap_or(text.len()))
}

/// The value of label `name`, if present.
fn label<'a>(labels: &'a [(String, String)], name: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(label, _)| label == name)
        .map(|(_, value)| value.as_str())
}

/// `labels` sorted by name (names are unique within a sample).
fn sorted(labels: &[(String, String)]) -> Vec<(String, String)> {
    let mut labels = labels.to_vec();
    labels.sort();
    labels
}

/// Whether `have` and `want` hold the same labels, in any order.
fn same_label_set(have: &[(String, String)], want: &[(&str, &str)]) -> bool {
    have.len() == want.len()
        && want
            .iter()
            .all(|&(name, value)| have.iter().any(|(n, v)| n == name && v == value))
        && have
            .iter()
            .all(|(name, value)| want.iter().any(|&(n, v)| n == name && v == value))
}

/// A label set as written in an exposition, for error messages; empty if there are no labels.
fn show_labels(labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// A float as the exposition format writes it, for error messages.
fn show_float(value: f64) -> String {
    if value == f64::INFINITY {
        "+Inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else if value.is_nan() {
        "NaN".to_string()
    } else {
        value.to_string()
    }
}

/// A position in a line: the text not yet consumed.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// The next character, left in place.
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    /// Consumes and returns the next character.
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.rest = &self.rest[c.len_utf8()..];
        Some(c)
    }

    /// Consumes `expected` if it is the next character.
    fn eat(&mut self, expected: char) -> bool {
        match self.rest.strip_prefix(expected) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Consumes blanks; whether there were any.
    fn skip_blanks(&mut self) -> bool {
        let before = self.rest.len();
        self.rest = self.rest.trim_start_matches(BLANKS);
        self.rest.len() != before
    }

    /// Consumes and returns the longest prefix whose characters satisfy `keep`.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        self.take_while_max(keep, usize::MAX)
    }

    /// Like [`Cursor::take_while`], but at most `max` characters.
    fn take_while_max(&mut self, keep: impl Fn(char) -> bool, max: usize) -> &'a str {
        let mut end = 0;
        for c in self.rest.chars().take(max) {
            if !keep(c) {
                break;
            }
            end += c.len_utf8();
        }
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }
}
