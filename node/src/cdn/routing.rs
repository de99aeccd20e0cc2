//! Who receives a message: the pure part of the broker's routing, apart from connections and queues.
//!
//! A topic goes to the logged-in nodes it covers (every node for [`Topic::Global`], the nodes with DA-committee
//! stake for [`Topic::DaCommittee`]), never back to its sender. A direct message goes to each listed node once:
//! those logged in here are delivered to, the others are looked up on other brokers.

use std::collections::BTreeSet;

use super::frame::Topic;
use crate::consensus::NodeId;

/// The stake-table facts routing needs: which nodes are in the DA committee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    da: Vec<bool>,
}

impl Membership {
    /// From each node's DA-committee flag, by node index.
    pub fn new(da: Vec<bool>) -> Self {
        Membership { da }
    }

    /// The number of nodes in the table.
    pub fn len(&self) -> usize {
        self.da.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.da.is_empty()
    }

    /// Whether `node` has stake in the DA committee (false for a node outside the table).
    pub fn is_da(&self, node: NodeId) -> bool {
        self.da.get(usize::from(node)).copied().unwrap_or(false)
    }

    /// Whether `topic` covers `node`.
    pub fn covers(&self, topic: Topic, node: NodeId) -> bool {
        match topic {
            Topic::Global => usize::from(node) < self.da.len(),
            Topic::DaCommittee => self.is_da(node),
        }
    }
}

/// The logged-in nodes (`here`) that receive `topic` from `sender` (`None`: from another broker, whose sender is
/// not here), ascending.
pub fn topic_recipients(
    members: &Membership,
    topic: Topic,
    sender: Option<NodeId>,
    here: impl IntoIterator<Item = NodeId>,
) -> Vec<NodeId> {
    let mut out: Vec<NodeId> = here.into_iter().filter(|&n| Some(n) != sender && members.covers(topic, n)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A direct message's recipients, each once: `(here, elsewhere)`, by whether `is_here` says the node is logged in
/// to this broker. Ascending.
pub fn split_direct(to: &[NodeId], is_here: impl Fn(NodeId) -> bool) -> (Vec<NodeId>, Vec<NodeId>) {
    let unique: BTreeSet<NodeId> = to.iter().copied().collect();
    unique.into_iter().partition(|&n| is_here(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Membership {
        // Nodes 0 and 2 are in the DA committee.
        Membership::new(vec![true, false, true, false])
    }

    #[test]
    fn global_reaches_everyone_here_but_the_sender() {
        assert_eq!(topic_recipients(&members(), Topic::Global, Some(1), [0, 1, 2, 3]), vec![0, 2, 3]);
        assert_eq!(topic_recipients(&members(), Topic::Global, Some(1), [3, 1]), vec![3]);
        assert_eq!(topic_recipients(&members(), Topic::Global, None, [2, 0, 1]), vec![0, 1, 2]);
    }

    #[test]
    fn the_da_topic_reaches_only_da_members() {
        assert_eq!(topic_recipients(&members(), Topic::DaCommittee, Some(1), [0, 1, 2, 3]), vec![0, 2]);
        assert_eq!(topic_recipients(&members(), Topic::DaCommittee, Some(0), [0, 1, 2, 3]), vec![2]);
        assert_eq!(topic_recipients(&members(), Topic::DaCommittee, None, [1, 3]), Vec::<NodeId>::new());
    }

    #[test]
    fn nodes_outside_the_table_receive_nothing() {
        assert_eq!(topic_recipients(&members(), Topic::Global, None, [0, 9]), vec![0]);
        assert!(!members().is_da(9));
    }

    #[test]
    fn direct_splits_into_here_and_elsewhere_without_duplicates() {
        let here = |n: NodeId| n.is_multiple_of(2);
        assert_eq!(split_direct(&[3, 0, 2, 3, 0], here), (vec![0, 2], vec![3]));
        assert_eq!(split_direct(&[], here), (vec![], vec![]));
    }
}
