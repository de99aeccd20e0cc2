//! The devnet's time series: throughput and latency sampled about once a second while the load runs, and the
//! fault events with their times — what `--plot` draws and what the summary's fault effects are computed from.
//! It is bounded: past [`MAX_SAMPLES`], neighbouring samples are merged in pairs (the series keeps its whole
//! span at half the resolution), so an hour-long run holds as little as a minute-long one needs.

/// Samples kept before pairs are merged.
pub const MAX_SAMPLES: usize = 1024;

/// One point of the series.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Sample {
    /// Seconds since the load started.
    pub t_s: f64,
    /// Payload decided per second over the trailing window, MB/s (10^6 bytes).
    pub mb_s: f64,
    /// Median submit-to-decide of the transactions decided in the trailing window, seconds (`None`: none was).
    pub p50_s: Option<f64>,
}

/// Something done to the network during the run (a crash, a restart, a misbehaving node starting).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Event {
    /// Seconds since the load started.
    pub t_s: f64,
    /// What happened, e.g. "crashed node 2".
    pub what: String,
}

/// A fault's effect: throughput and latency over the window before it and the window after it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Effect {
    /// The event.
    pub event: Event,
    /// Mean MB/s of the samples in the window before the event, and in the window after it.
    pub mb_s: (Option<f64>, Option<f64>),
    /// Mean p50 latency (s) of the same samples.
    pub p50_s: (Option<f64>, Option<f64>),
}

/// The bounded series and the events.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timeline {
    /// The samples, in time order.
    pub samples: Vec<Sample>,
    /// The events, in time order.
    pub events: Vec<Event>,
}

impl Timeline {
    /// Appends a sample, merging pairs first when the series is full.
    pub fn push(&mut self, s: Sample) {
        if self.samples.len() >= MAX_SAMPLES {
            self.samples = self.samples.chunks(2).filter_map(|pair| pair.iter().copied().reduce(merge)).collect();
        }
        self.samples.push(s);
    }

    /// Records an event at `t_s`.
    pub fn event(&mut self, t_s: f64, what: impl Into<String>) {
        self.events.push(Event { t_s, what: what.into() });
    }

    /// The effect of each event after the load started (one at the start, such as a node misbehaving from the
    /// outset, has no before): the samples' means over `window` seconds before it and `window` seconds after it.
    pub fn effects(&self, window: f64) -> Vec<Effect> {
        let mean = |from: f64, to: f64, f: &dyn Fn(&Sample) -> Option<f64>| {
            let v: Vec<f64> = self.samples.iter().filter(|s| s.t_s > from && s.t_s <= to).filter_map(f).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        self.events
            .iter()
            .filter(|e| e.t_s > 0.0)
            .map(|e| {
                let (t, w) = (e.t_s, window);
                Effect {
                    event: e.clone(),
                    mb_s: (mean(t - w, t, &|s| Some(s.mb_s)), mean(t, t + w, &|s| Some(s.mb_s))),
                    p50_s: (mean(t - w, t, &|s| s.p50_s), mean(t, t + w, &|s| s.p50_s)),
                }
            })
            .collect()
    }
}

/// One sample standing for two neighbours: the later time, the mean values.
fn merge(a: Sample, b: Sample) -> Sample {
    let p50_s = match (a.p50_s, b.p50_s) {
        (Some(x), Some(y)) => Some((x + y) / 2.0),
        (x, y) => x.or(y),
    };
    Sample { t_s: b.t_s, mb_s: (a.mb_s + b.mb_s) / 2.0, p50_s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64) -> Sample {
        Sample { t_s: t, mb_s: t, p50_s: (t as u64).is_multiple_of(2).then_some(t) }
    }

    #[test]
    fn a_full_series_merges_pairs_and_keeps_its_span() {
        let mut tl = Timeline::default();
        for i in 1..=MAX_SAMPLES + 1 {
            tl.push(sample(i as f64));
        }
        assert_eq!(tl.samples.len(), MAX_SAMPLES / 2 + 1);
        assert_eq!(tl.samples[0], Sample { t_s: 2.0, mb_s: 1.5, p50_s: Some(2.0) }, "one p50 of the pair");
        assert_eq!(tl.samples.last().unwrap().t_s, (MAX_SAMPLES + 1) as f64);
        assert!(tl.samples.windows(2).all(|w| w[0].t_s < w[1].t_s));
        for i in 0..10 * MAX_SAMPLES {
            tl.push(sample((MAX_SAMPLES + 2 + i) as f64));
        }
        assert!(tl.samples.len() <= MAX_SAMPLES, "bounded: {}", tl.samples.len());
    }

    #[test]
    fn an_effect_compares_the_windows_around_its_event() {
        let mut tl = Timeline::default();
        for t in 1..=10 {
            let mb_s = if t <= 5 { 10.0 } else { 4.0 };
            tl.push(Sample { t_s: t as f64, mb_s, p50_s: (t > 5).then_some(2.0) });
        }
        tl.event(0.0, "node 3 equivocate");
        tl.event(5.0, "crashed node 1");
        let effects = tl.effects(3.0);
        assert_eq!(effects.len(), 1, "an event at the start has no before");
        let e = &effects[0];
        assert_eq!(e.event.what, "crashed node 1");
        assert_eq!(e.mb_s, (Some(10.0), Some(4.0)));
        assert_eq!(e.p50_s, (None, Some(2.0)));
    }
}
