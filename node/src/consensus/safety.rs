//! The safety rules, as pure functions so they can be tested alone.
//!
//! # The commit rule (HotStuff-2, two-chain)
//! HotStuff-2 (Malkhi and Nayak, 2023) commits with two consecutive certificates instead of HotStuff's three.
//! Let block `B` be proposed in view `v`, and let its child `B'` (whose `justify` is `QC(B)`) be proposed in view
//! `v + 1`. When a replica sees `QC(B')` (normally as the `justify` of the grandchild `B''`), `B` and all its
//! ancestors are decided. In the words of the issue: `B` is decided when its child and grandchild carry QCs from
//! consecutive views (`QC(B)` in `B'`, view `v`; `QC(B')` in `B''`, view `v + 1`).
//!
//! Why it is safe: `QC(B')` means more than 2/3 of stake voted for `B'` in view `v + 1`; the honest ones among them
//! had `QC(B)` as their highest QC when they voted (it is `B'`'s justify, and a vote is persisted together with the
//! high QC). Any timeout certificate for a view ≥ `v + 1` includes at least one of those honest nodes, so its maximum
//! high-QC view is ≥ `v`; and [`safe_to_vote`] lets an honest node vote after a timeout only for a proposal whose
//! justify is at least that maximum. By induction every later certified block extends `B`.
//! The consecutive-views condition is essential: if `B'` were in view `v + 2`, view `v + 1` could have ended in a
//! timeout certificate whose voters never saw `QC(B)`, and a conflicting block could be certified.
//!
//! # The voting rule (the two-chain "lock")
//! HotStuff-2 locks on the highest QC. A node votes in view `v` at most once, only if `v` is above every view it
//! voted or timed out in, and only if either the proposal's justify is from view `v - 1` (the happy path), or the
//! proposal carries a timeout certificate for `v - 1` and its justify is at least as high as every high QC in that
//! certificate (the view-change path). This is the formulation used by Jolteon/DiemBFT-v4, which is HotStuff-2's
//! two-chain rule with quadratic view change.

use super::types::View;

/// Which commit rule a node runs. Only [`CommitRule::TwoChain`] is safe; the other exists so tests can prove the
/// checkers catch a broken rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommitRule {
    /// HotStuff-2: decide a block when it and its child are certified in consecutive views.
    #[default]
    TwoChain,
    /// DELIBERATELY BROKEN: decide a block as soon as it has one QC. For checker tests only.
    UnsafeOneChain,
}

/// Which voting rule a node runs. Only [`VoteRule::Safe`] is safe; the other exists so tests can prove the
/// simulator's adversaries and checkers catch a broken one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VoteRule {
    /// [`safe_to_vote`].
    #[default]
    Safe,
    /// DELIBERATELY BROKEN: vote for any valid proposal in a new view, whatever its justify. For checker tests only.
    UnsafeAnyJustify,
}

/// Whether a node may vote in `view` for a proposal whose justify QC is from `justify_view`, given the proposal's
/// timeout certificate (its view and maximum high-QC view) and the highest view the node already voted or timed
/// out in.
pub fn safe_to_vote(view: View, justify_view: View, tc: Option<(View, View)>, last_voted_view: View) -> bool {
    if view <= last_voted_view {
        return false;
    }
    if justify_view.checked_add(1) == Some(view) {
        return true;
    }
    match tc {
        Some((tc_view, max_high_qc)) => tc_view.checked_add(1) == Some(view) && justify_view >= max_high_qc,
        None => false,
    }
}

/// Whether a block proposed in `parent_view` is decided by a QC on its child proposed in `child_view`.
pub fn two_chain_commits(parent_view: View, child_view: View) -> bool {
    parent_view.checked_add(1) == Some(child_view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_once_per_view_and_only_upwards() {
        assert!(safe_to_vote(5, 4, None, 4));
        assert!(!safe_to_vote(5, 4, None, 5));
        assert!(!safe_to_vote(5, 4, None, 7));
    }

    #[test]
    fn after_a_timeout_the_justify_must_cover_the_certificate() {
        // View 5 timed out; highest QC reported in the TC is from view 3.
        assert!(safe_to_vote(6, 3, Some((5, 3)), 5));
        assert!(safe_to_vote(6, 4, Some((5, 3)), 5));
        assert!(!safe_to_vote(6, 2, Some((5, 3)), 5), "justify below the TC's high QC");
        assert!(!safe_to_vote(7, 3, Some((5, 3)), 5), "TC not for the previous view");
        assert!(!safe_to_vote(6, 3, None, 5), "gap without a TC");
    }

    #[test]
    fn commit_needs_consecutive_views() {
        assert!(two_chain_commits(4, 5));
        assert!(!two_chain_commits(4, 6));
        assert!(!two_chain_commits(u64::MAX, 0));
    }
}
