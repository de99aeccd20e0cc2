//! Savoiardi: this node's VID share from the view's leader, checked by the engine before the quorum vote.

use super::certificate::CertScheme;
use super::state::{Node, Reject};
use super::types::{Action, DataRequest, Digest, NodeId, VidShare, View};

impl<C: CertScheme> Node<C> {
    /// This node's VID share from the view's leader: ask the engine to verify it (once per view).
    pub(super) fn on_vid_share(
        &mut self,
        from: NodeId,
        view: View,
        commitment: Digest,
        share: VidShare,
    ) -> Result<(), Reject> {
        if from != self.leader(view) || share.index != self.id {
            return Err(Reject::WrongSender(from));
        }
        if !self.in_window(view) {
            return Err(Reject::OutOfWindow(view));
        }
        if !self.share_requested.insert(view) {
            return Ok(());
        }
        self.out.push(Action::RequestData(DataRequest::VerifyShare { view, commitment, share }));
        Ok(())
    }

    /// The engine's verdict on our VID share.
    pub(super) fn on_share_checked(&mut self, view: View, commitment: Digest, ok: bool) {
        if ok && self.in_window(view) {
            self.share_ok.insert((view, commitment));
            self.try_vote();
        }
    }
}
