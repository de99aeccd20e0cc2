//! The latency drill's delay line: messages wait a fixed delay, in order, in a bounded FIFO that the swarm task
//! drains as their times come. A constant delay keeps FIFO order by itself; when the delay shrinks mid-run a
//! message still leaves no earlier than the one queued before it, so nothing is ever reordered.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// A bounded FIFO of items, each with the time it may leave.
#[derive(Debug)]
pub(super) struct DelayLine<T> {
    items: VecDeque<(Instant, T)>,
    cap: usize,
}

impl<T> DelayLine<T> {
    /// An empty line holding at most `cap` items.
    pub(super) fn new(cap: usize) -> Self {
        DelayLine { items: VecDeque::new(), cap }
    }

    /// Whether nothing waits.
    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items waiting.
    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    /// Queues `item` to leave `delay` after `now` (or with the item before it, if that one leaves later); gives it
    /// back when the line is full.
    pub(super) fn push(&mut self, now: Instant, delay: Duration, item: T) -> Result<(), T> {
        if self.items.len() >= self.cap {
            return Err(item);
        }
        let at = now + delay;
        let at = self.items.back().map_or(at, |(last, _)| at.max(*last));
        self.items.push_back((at, item));
        Ok(())
    }

    /// When the first item may leave.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.items.front().map(|(at, _)| *at)
    }

    /// The first item, if its time has come by `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<T> {
        if self.next_due()? <= now { self.items.pop_front().map(|(_, item)| item) } else { None }
    }

    /// Every item, at once, in order (shutdown).
    pub(super) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.items.drain(..).map(|(_, item)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn items_leave_after_their_delay_in_order_even_when_the_delay_shrinks() {
        let t0 = Instant::now();
        let mut line = DelayLine::new(8);
        line.push(t0, 100 * MS, 'a').unwrap();
        line.push(t0 + 10 * MS, 100 * MS, 'b').unwrap();
        // Queued later with a shorter delay: still leaves after 'b'.
        line.push(t0 + 20 * MS, 5 * MS, 'c').unwrap();
        assert_eq!(line.next_due(), Some(t0 + 100 * MS));
        assert_eq!(line.pop_due(t0 + 99 * MS), None, "not before its delay");
        assert_eq!(line.pop_due(t0 + 100 * MS), Some('a'));
        assert_eq!(line.pop_due(t0 + 109 * MS), None);
        assert_eq!(line.pop_due(t0 + 110 * MS), Some('b'));
        assert_eq!(line.pop_due(t0 + 110 * MS), Some('c'), "'c' leaves with 'b', not before it");
        assert!(line.is_empty() && line.next_due().is_none());
    }

    #[test]
    fn a_full_line_gives_the_item_back_and_drain_empties_it_in_order() {
        let t0 = Instant::now();
        let mut line = DelayLine::new(2);
        line.push(t0, MS, 1).unwrap();
        line.push(t0, MS, 2).unwrap();
        assert_eq!(line.push(t0, MS, 3), Err(3));
        assert_eq!(line.len(), 2);
        assert_eq!(line.drain().collect::<Vec<_>>(), vec![1, 2]);
        assert!(line.is_empty());
    }
}
