//! The wheel against a simple model: a sorted map of (deadline, key).
//!
//! Random inserts (near, far, past and beyond-range deadlines), cancels, resets and time
//! jumps (small steps, jumps to the reported next deadline, long leaps), with a fixed seed.
//! After every poll the fired set must be exactly the model's entries with deadline <= now,
//! and `next_deadline` must never be later than the model's earliest deadline.

use magpie_timer::{Key, Wheel, MAX_SPAN_MS, NANOS_PER_SLOT};
use std::collections::{BTreeSet, HashMap};

/// xorshift64*, seeded: the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Model {
    wheel: Wheel,
    pending: BTreeSet<(u64, Key)>,
    deadlines: HashMap<Key, u64>,
    fired: Vec<Key>,
    now: u64,
    total_fired: usize,
    total_cascaded_far: usize,
}

impl Model {
    fn new() -> Model {
        Model {
            wheel: Wheel::new(),
            pending: BTreeSet::new(),
            deadlines: HashMap::new(),
            fired: Vec::new(),
            now: 0,
            total_fired: 0,
            total_cascaded_far: 0,
        }
    }

    fn random_deadline(&mut self, rng: &mut Rng) -> u64 {
        let now = self.now;
        match rng.below(10) {
            // Within the current millisecond or the next few: level 0, sub-ms precision.
            0..=3 => now + rng.below(5 * NANOS_PER_SLOT),
            // Seconds to hours away.
            4..=6 => now + rng.below(3_600_000) * NANOS_PER_SLOT + rng.below(NANOS_PER_SLOT),
            // Already past.
            7 => now.saturating_sub(rng.below(10 * NANOS_PER_SLOT)),
            // Beyond the wheel's range.
            8 => now + (MAX_SPAN_MS + rng.below(MAX_SPAN_MS)) * NANOS_PER_SLOT,
            // Exactly now.
            _ => now,
        }
    }

    fn insert(&mut self, deadline: u64) {
        let key = self.wheel.insert(deadline, self.now, None);
        assert!(self.deadlines.insert(key, deadline).is_none(), "key reused");
        self.pending.insert((deadline, key));
    }

    fn any_key(&self, rng: &mut Rng) -> Option<Key> {
        if self.deadlines.is_empty() {
            return None;
        }
        let nth = rng.below(self.deadlines.len() as u64) as usize;
        self.deadlines.keys().nth(nth).copied()
    }

    fn cancel(&mut self, key: Key) {
        let deadline = self.deadlines.remove(&key).unwrap();
        let was_pending = self.pending.remove(&(deadline, key));
        let had_fired = self.wheel.remove(key);
        assert_eq!(had_fired, !was_pending, "remove of {key:?} disagrees");
        self.fired.retain(|k| *k != key);
    }

    fn reset(&mut self, key: Key, deadline: u64) {
        let old = self.deadlines.insert(key, deadline).unwrap();
        self.pending.remove(&(old, key));
        self.fired.retain(|k| *k != key);
        self.wheel.reset(key, deadline);
        self.pending.insert((deadline, key));
    }

    fn advance_to(&mut self, now: u64) {
        assert!(now >= self.now);
        self.now = now;
        let mut fired = Vec::new();
        self.wheel.poll(now, |key, _| fired.push(key));
        let mut expected = Vec::new();
        while let Some(&(deadline, key)) = self.pending.first() {
            if deadline > now {
                break;
            }
            self.pending.pop_first();
            expected.push(key);
        }
        fired.sort_by_key(|k| k.index());
        expected.sort_by_key(|k| k.index());
        assert_eq!(fired, expected, "fired set at {now} ns");
        for key in &fired {
            assert!(self.wheel.is_fired(*key));
        }
        self.total_fired += fired.len();
        self.total_cascaded_far += fired
            .iter()
            .filter(|k| self.deadlines[k] > MAX_SPAN_MS * NANOS_PER_SLOT)
            .count();
        self.fired.extend(fired);
        self.check_next_deadline();
    }

    fn check_next_deadline(&self) {
        assert_eq!(self.wheel.pending(), self.pending.len());
        assert_eq!(
            self.wheel.earliest_deadline(),
            self.pending.first().map(|&(deadline, _)| deadline),
            "earliest_deadline must be exact"
        );
        match (self.wheel.next_deadline(), self.pending.first()) {
            (None, None) => {}
            (Some(next), Some(&(earliest, _))) => {
                assert!(
                    next <= earliest,
                    "next_deadline {next} is after the earliest timer {earliest}: it would fire late"
                );
            }
            (wheel, model) => panic!("next_deadline {wheel:?} but model earliest {model:?}"),
        }
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let mut model = Model::new();
    for _ in 0..steps {
        match rng.below(100) {
            0..=39 => {
                let deadline = model.random_deadline(&mut rng);
                model.insert(deadline);
            }
            40..=54 => {
                if let Some(key) = model.any_key(&mut rng) {
                    model.cancel(key);
                }
            }
            55..=61 => {
                if let Some(key) = model.any_key(&mut rng) {
                    let deadline = model.random_deadline(&mut rng);
                    model.reset(key, deadline);
                }
            }
            62..=79 => {
                let step = rng.below(3 * NANOS_PER_SLOT);
                model.advance_to(model.now + step);
            }
            80..=93 => {
                // What a driver does: sleep until the reported deadline, then poll.
                if let Some(next) = model.wheel.next_deadline() {
                    model.advance_to(next.max(model.now));
                }
            }
            _ => {
                let leap = rng.below(10_000_000) * NANOS_PER_SLOT;
                model.advance_to(model.now + leap);
            }
        }
        model.check_next_deadline();
    }
    // Drain: following next_deadline fires everything, each exactly when due.
    let mut looks = 0;
    while let Some(next) = model.wheel.next_deadline() {
        model.advance_to(next.max(model.now));
        looks += 1;
        assert!(looks < 1_000_000, "the wheel does not drain");
    }
    assert!(model.pending.is_empty());
    if steps >= 10_000 {
        // The run exercised what it claims to: many fires, some beyond the wheel's range.
        assert!(model.total_fired > steps / 5, "{} fired", model.total_fired);
        assert!(model.total_cascaded_far > 0);
    }
    for key in model.deadlines.keys().copied().collect::<Vec<_>>() {
        model.cancel(key);
    }
    assert!(model.wheel.is_empty());
}

#[test]
fn matches_the_model_seed_1() {
    run(0x5EED_0001, 20_000);
}

#[test]
fn matches_the_model_seed_2() {
    run(0xC0FF_EE42, 20_000);
}

#[test]
fn matches_the_model_many_short_runs() {
    for seed in 1..200u64 {
        run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, 300);
    }
}

#[test]
fn a_million_register_and_cancel() {
    let mut wheel = Wheel::new();
    let mut keys = Vec::with_capacity(1000);
    for round in 0..1000u64 {
        for i in 0..1000u64 {
            keys.push(wheel.insert((round * 1000 + i) * 7919 % 10_000_000_000, 0, None));
        }
        for key in keys.drain(..) {
            assert!(!wheel.remove(key));
        }
    }
    assert!(wheel.is_empty());
    assert_eq!(wheel.next_deadline(), None);
}
