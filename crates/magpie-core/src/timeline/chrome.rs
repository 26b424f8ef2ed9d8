//! The Chrome Trace Event format (the JSON object form): one `thread_name` metadata event
//! per track, then the track's spans as balanced `B`/`E` pairs and its steals as instant
//! (`i`) events. Timestamps are microseconds since the timeline's epoch, with nanosecond
//! decimals; `pid` is 1 and `tid` is the track number (workers `0..n`, blocking threads
//! from 1000).

use super::{Event, Trace, Track};
use std::io::{self, Write};

pub(super) fn write(trace: &Trace, out: &mut impl Write) -> io::Result<()> {
    let mut w = Writer { out, first: true };
    w.out.write_all(b"{\"traceEvents\":[\n")?;
    w.raw(r#"{"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":"magpie"}}"#)?;
    for track in &trace.tracks {
        w.raw(&format!(
            r#"{{"ph":"M","pid":1,"tid":{},"name":"thread_name","args":{{"name":{}}}}}"#,
            track.id,
            json_string(&track.name)
        ))?;
        w.raw(&format!(
            r#"{{"ph":"M","pid":1,"tid":{},"name":"thread_sort_index","args":{{"sort_index":{}}}}}"#,
            track.id, track.id
        ))?;
    }
    for track in &trace.tracks {
        write_track(&mut w, track, trace.taken.as_nanos() as u64)?;
    }
    write!(
        w.out,
        "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{{\"recorder\":\"magpie timeline\",\"lost_events\":{}}}}}\n",
        trace.lost
    )
}

struct Writer<'a, W: Write> {
    out: &'a mut W,
    first: bool,
}

impl<W: Write> Writer<'_, W> {
    fn raw(&mut self, event: &str) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        self.out.write_all(event.as_bytes())
    }
}

/// The span an event opens or closes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Span {
    Poll,
    Park,
    Turn,
    Blocking,
}

impl Span {
    fn name(self) -> &'static str {
        match self {
            Span::Poll => "poll",
            Span::Park => "park",
            Span::Turn => "driver turn",
            Span::Blocking => "blocking",
        }
    }
}

fn write_track<W: Write>(w: &mut Writer<'_, W>, track: &Track, taken: u64) -> io::Result<()> {
    let tid = track.id;
    let mut open: Vec<Span> = Vec::new();
    for (at, event) in &track.events {
        let ts = micros(*at);
        let (begin, args) = match event {
            Event::PollStart { task, name } => {
                let mut args = format!("\"task\":{task}");
                if let Some(name) = name {
                    args.push_str(&format!(",\"name\":{}", json_string(name)));
                }
                (Some(Span::Poll), args)
            }
            Event::ParkStart => (Some(Span::Park), String::new()),
            Event::TurnStart => (Some(Span::Turn), String::new()),
            Event::BlockingStart { task } => (Some(Span::Blocking), format!("\"task\":{task}")),
            Event::Steal { victim, tasks } => {
                w.raw(&format!(
                    r#"{{"ph":"i","s":"t","pid":1,"tid":{tid},"ts":{ts},"name":"steal","args":{{"victim":{victim},"tasks":{tasks}}}}}"#
                ))?;
                continue;
            }
            Event::PollEnd | Event::ParkEnd | Event::TurnEnd | Event::BlockingEnd => {
                let span = match event {
                    Event::PollEnd => Span::Poll,
                    Event::ParkEnd => Span::Park,
                    Event::TurnEnd => Span::Turn,
                    _ => Span::Blocking,
                };
                // An end whose begin the ring overwrote is left out.
                if open.last() == Some(&span) {
                    open.pop();
                    w.raw(&format!(
                        r#"{{"ph":"E","pid":1,"tid":{tid},"ts":{ts},"name":"{}"}}"#,
                        span.name()
                    ))?;
                }
                continue;
            }
        };
        if let Some(span) = begin {
            open.push(span);
            w.raw(&format!(
                r#"{{"ph":"B","pid":1,"tid":{tid},"ts":{ts},"name":"{}","args":{{{args}}}}}"#,
                span.name()
            ))?;
        }
    }
    // Spans still open when the copy was taken end then.
    let ts = micros(taken.max(track.events.last().map_or(0, |(at, _)| *at)));
    while let Some(span) = open.pop() {
        w.raw(&format!(
            r#"{{"ph":"E","pid":1,"tid":{tid},"ts":{ts},"name":"{}","args":{{"unfinished":true}}}}"#,
            span.name()
        ))?;
    }
    Ok(())
}

/// Nanoseconds as microseconds with three decimals.
fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::Timeline;
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(micros(1_234_567), "1234.567");
    }

    #[test]
    fn a_cut_ring_still_gives_balanced_spans() {
        // Capacity 3: the first poll (start and end) is overwritten.
        let timeline = Timeline::new(1, 3);
        timeline.record(
            0,
            Event::PollStart {
                task: 1,
                name: None,
            },
        );
        timeline.record(0, Event::PollEnd);
        timeline.record(0, Event::ParkStart);
        timeline.record(0, Event::ParkEnd);
        timeline.record(
            0,
            Event::PollStart {
                task: 2,
                name: Some("x\"y".into()),
            },
        );
        let trace = timeline.trace();
        assert_eq!(trace.lost(), 2);
        let json = trace.to_chrome_json();
        assert_eq!(json.matches("\"ph\":\"B\"").count(), 2, "{json}");
        assert_eq!(json.matches("\"ph\":\"E\"").count(), 2, "{json}");
        assert!(json.contains(r#""name":"x\"y""#), "{json}");
        assert!(json.contains("\"unfinished\":true"), "{json}");
    }
}
