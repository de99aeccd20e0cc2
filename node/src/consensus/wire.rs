//! The consensus wire format: one versioned, canonical, size-limited encoding for every [`Message`], written with
//! the engine's bounded reader and writer ([`crema_engine::codec`]).
//!
//! A message is the tag `CMS`, a version byte, a kind byte and the kind's fields; integers are little-endian,
//! variable-length fields carry a u32 length checked against a [`WireLimits`] field before anything is allocated,
//! and trailing bytes are refused. Decoding never panics: it returns a [`WireError`]. Signatures and
//! certificates are decoded by the [`CertScheme`] (BLS points are checked to be on the curve and in the subgroup
//! here); whether they *verify* is [`super::verify`]'s job.

use std::sync::Arc;

use crema_engine::codec::{Reader, WireError, Writer};
use crema_engine::stake::Fraction;
use crema_engine::vid::SchemeKind;

use super::certificate::CertScheme;
use super::types::{
    CommitProof, DaCert, DaProposal, DaVote, DecidedRange, Digest, Header, Message, NodeId, Proposal, Qc, Tc,
    TimeoutVote, VidParams, VidShare, View, Vote,
};

const TAG: &[u8; 3] = b"CMS";
const VERSION: u8 = 1;
/// Bytes of an encoded header.
pub const HEADER_BYTES: usize = 8 + 8 + 32 + 2 + 8 + 32 + 8 + 4 + 32 + 1 + 8 + 8;
/// Most decided headers one [`Message::SyncResponse`] carries.
pub const MAX_SYNC_BLOCKS: usize = 256;

/// The size limits a decoder enforces; they follow the network's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireLimits {
    /// Nodes in the stake table (bounds certificates and timeout certificates).
    pub max_nodes: usize,
    /// Largest encoded block payload (a DA proposal).
    pub max_payload: usize,
    /// Largest encoded VID share.
    pub max_share: usize,
    /// Largest encoded VID common data.
    pub max_common: usize,
}

impl WireLimits {
    /// Limits for a network of `max_nodes` nodes and blocks of at most `max_payload` bytes. A share holds at most
    /// the whole payload plus its proofs, the common data a few hundred bytes per namespace and node.
    pub fn for_network(max_nodes: usize, max_payload: usize) -> Self {
        WireLimits {
            max_nodes,
            max_payload: max_payload + 64 * 1024,
            max_share: max_payload + (1 << 20),
            max_common: (1 << 20) + 1024 * (64 + 4 * max_nodes),
        }
    }

    /// The largest encoded message these limits admit (what a transport's frame limit should be).
    pub fn max_message(&self) -> usize {
        // A share message carries the common data and the share; a DA proposal the payload; a sync response
        // headers and QCs (a certificate is at most a signature and a bitmap, or a MAC list).
        let cert = 16 + 18 * self.max_nodes;
        let sync = MAX_SYNC_BLOCKS * (HEADER_BYTES + 40 + cert) + 2 * (HEADER_BYTES + 40 + cert);
        (self.max_common + self.max_share).max(self.max_payload).max(sync) + 4096
    }
}

/// Message kinds on the wire.
mod kind {
    pub const PROPOSAL: u8 = 1;
    pub const VOTE: u8 = 2;
    pub const DA_PROPOSAL: u8 = 3;
    pub const DA_VOTE: u8 = 4;
    pub const DA_CERTIFICATE: u8 = 5;
    pub const VID_SHARE: u8 = 6;
    pub const TIMEOUT: u8 = 7;
    pub const VIEW_SYNC: u8 = 8;
    pub const FETCH_REQUEST: u8 = 9;
    pub const FETCH_RESPONSE: u8 = 10;
    pub const SHARE_REQUEST: u8 = 11;
    pub const SYNC_REQUEST: u8 = 12;
    pub const SYNC_RESPONSE: u8 = 13;
}

/// The canonical bytes of a header (what its hash covers).
pub fn encode_header(h: &Header) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_BYTES);
    b.extend_from_slice(&h.view.to_le_bytes());
    b.extend_from_slice(&h.height.to_le_bytes());
    b.extend_from_slice(&h.parent.0);
    b.extend_from_slice(&h.proposer.to_le_bytes());
    b.extend_from_slice(&h.timestamp_ms.to_le_bytes());
    b.extend_from_slice(&h.payload_commitment.0);
    b.extend_from_slice(&h.payload_len.to_le_bytes());
    b.extend_from_slice(&h.namespaces.to_le_bytes());
    b.extend_from_slice(&h.ns_table_root.0);
    b.push(h.vid.scheme.tag());
    b.extend_from_slice(&h.vid.threshold.num().to_le_bytes());
    b.extend_from_slice(&h.vid.threshold.den().to_le_bytes());
    b
}

/// Reads a header written by [`encode_header`] (the scheme and threshold must be valid).
pub fn read_header(r: &mut Reader<'_>) -> Result<Header, WireError> {
    let view = u64_(r, "header view")?;
    let height = u64_(r, "header height")?;
    let parent = digest(r, "header parent")?;
    let proposer = node(r, "header proposer")?;
    let timestamp_ms = u64_(r, "header timestamp")?;
    let payload_commitment = digest(r, "payload commitment")?;
    let payload_len = u64_(r, "payload length")?;
    let namespaces = u32::from_le_bytes(r.array("namespace count")?);
    let ns_table_root = digest(r, "namespace table root")?;
    let scheme = SchemeKind::from_u8(r.u8("vid scheme")?)?;
    let (num, den) = (u64_(r, "threshold numerator")?, u64_(r, "threshold denominator")?);
    let threshold =
        Fraction::new(num, den).map_err(|e| WireError::Invalid { what: "vid threshold", reason: e.to_string() })?;
    Ok(Header {
        view,
        height,
        parent,
        proposer,
        timestamp_ms,
        payload_commitment,
        payload_len,
        namespaces,
        ns_table_root,
        vid: VidParams { scheme, threshold },
    })
}

/// Decodes a header from its canonical bytes alone.
pub fn decode_header(bytes: &[u8]) -> Result<Header, WireError> {
    let mut r = Reader::new_untagged(bytes);
    let h = read_header(&mut r)?;
    r.finish()?;
    Ok(h)
}

fn u64_(r: &mut Reader<'_>, what: &'static str) -> Result<u64, WireError> {
    Ok(u64::from_le_bytes(r.array(what)?))
}

fn node(r: &mut Reader<'_>, what: &'static str) -> Result<NodeId, WireError> {
    Ok(u16::from_le_bytes(r.array(what)?))
}

fn digest(r: &mut Reader<'_>, what: &'static str) -> Result<Digest, WireError> {
    Ok(Digest(r.array(what)?))
}

fn write_node(w: &mut Writer, id: NodeId) {
    w.bytes(&id.to_le_bytes());
}

/// Appends a QC (view, block, certificate).
pub fn write_qc<C: CertScheme>(w: &mut Writer, qc: &Qc<C>) {
    w.u64(qc.view).bytes(&qc.block.0);
    C::write_cert(&qc.cert, w);
}

/// Reads a QC written by [`write_qc`].
pub fn read_qc<C: CertScheme>(r: &mut Reader<'_>, l: &WireLimits) -> Result<Qc<C>, WireError> {
    let view = u64_(r, "qc view")?;
    let block = digest(r, "qc block")?;
    Ok(Qc { view, block, cert: C::read_cert(r, l.max_nodes)? })
}

fn write_tc<C: CertScheme>(w: &mut Writer, tc: &Tc<C>) {
    w.u64(tc.view).u32(tc.votes.len() as u32);
    for (signer, hqc, sig) in &tc.votes {
        write_node(w, *signer);
        w.u64(*hqc);
        C::write_sig(sig, w);
    }
}

fn read_tc<C: CertScheme>(r: &mut Reader<'_>, l: &WireLimits) -> Result<Tc<C>, WireError> {
    let view = u64_(r, "tc view")?;
    let count = r.u32_max("tc votes", l.max_nodes as u64)? as usize;
    let mut votes = Vec::with_capacity(count);
    for _ in 0..count {
        votes.push((node(r, "tc signer")?, u64_(r, "tc high qc view")?, C::read_sig(r)?));
    }
    Ok(Tc { view, votes })
}

fn write_option_tc<C: CertScheme>(w: &mut Writer, tc: &Option<Tc<C>>) {
    match tc {
        None => {
            w.u8(0);
        }
        Some(tc) => {
            w.u8(1);
            write_tc(w, tc);
        }
    }
}

fn read_option_tc<C: CertScheme>(r: &mut Reader<'_>, l: &WireLimits) -> Result<Option<Tc<C>>, WireError> {
    match r.u8("tc present")? {
        0 => Ok(None),
        1 => Ok(Some(read_tc(r, l)?)),
        b => Err(WireError::Invalid { what: "tc present", reason: format!("{b} is neither 0 nor 1") }),
    }
}

fn write_proposal<C: CertScheme>(w: &mut Writer, p: &Proposal<C>) {
    w.bytes(&encode_header(&p.header));
    write_qc(w, &p.justify);
    write_option_tc(w, &p.tc);
    C::write_sig(&p.sig, w);
}

fn read_proposal<C: CertScheme>(r: &mut Reader<'_>, l: &WireLimits) -> Result<Proposal<C>, WireError> {
    let header = read_header(r)?;
    let justify = read_qc(r, l)?;
    let tc = read_option_tc(r, l)?;
    Ok(Proposal { header, justify, tc, sig: C::read_sig(r)? })
}

/// Encodes a message.
pub fn encode<C: CertScheme>(msg: &Message<C>) -> Vec<u8> {
    // Bulk messages are sized up front: a growing buffer would copy megabytes again at each doubling.
    let bulk = match msg {
        Message::DaProposal(d) => d.payload.len(),
        Message::VidShare(s) => s.common.len() + s.share.len(),
        _ => 0,
    };
    let mut w = Writer::with_capacity(TAG, VERSION, bulk + 512);
    match msg {
        Message::Proposal(p) => {
            w.u8(kind::PROPOSAL);
            write_proposal(&mut w, p);
        }
        Message::Vote(v) => {
            w.u8(kind::VOTE).u64(v.view).bytes(&v.block.0);
            write_node(&mut w, v.voter);
            C::write_sig(&v.sig, &mut w);
        }
        Message::DaProposal(d) => {
            w.u8(kind::DA_PROPOSAL).u64(d.view).bytes(&d.commitment.0).len_bytes(&d.payload);
            C::write_sig(&d.sig, &mut w);
        }
        Message::DaVote(v) => {
            w.u8(kind::DA_VOTE).u64(v.view).bytes(&v.commitment.0);
            write_node(&mut w, v.voter);
            C::write_sig(&v.sig, &mut w);
        }
        Message::DaCertificate(c) => {
            w.u8(kind::DA_CERTIFICATE).u64(c.view).bytes(&c.commitment.0);
            C::write_cert(&c.cert, &mut w);
        }
        Message::VidShare(s) => {
            w.u8(kind::VID_SHARE).u64(s.view).bytes(&s.commitment.0);
            write_node(&mut w, s.node);
            w.len_bytes(&s.common).len_bytes(&s.share);
        }
        Message::Timeout(t) => {
            w.u8(kind::TIMEOUT).u64(t.view);
            write_qc(&mut w, &t.high_qc);
            write_node(&mut w, t.voter);
            C::write_sig(&t.sig, &mut w);
        }
        Message::ViewSync { sender, high_qc, tc } => {
            w.u8(kind::VIEW_SYNC);
            write_node(&mut w, *sender);
            write_qc(&mut w, high_qc);
            write_option_tc(&mut w, tc);
        }
        Message::FetchRequest { requester, block } => {
            w.u8(kind::FETCH_REQUEST);
            write_node(&mut w, *requester);
            w.bytes(&block.0);
        }
        Message::FetchResponse(p) => {
            w.u8(kind::FETCH_RESPONSE);
            write_proposal(&mut w, p);
        }
        Message::ShareRequest { requester, view, commitment } => {
            w.u8(kind::SHARE_REQUEST);
            write_node(&mut w, *requester);
            w.u64(*view).bytes(&commitment.0);
        }
        Message::SyncRequest { requester, from_height } => {
            w.u8(kind::SYNC_REQUEST);
            write_node(&mut w, *requester);
            w.u64(*from_height);
        }
        Message::SyncResponse(range) => {
            w.u8(kind::SYNC_RESPONSE).u32(range.blocks.len() as u32);
            for (h, qc) in &range.blocks {
                w.bytes(&encode_header(h));
                write_qc(&mut w, qc);
            }
            w.bytes(&encode_header(&range.proof.child));
            write_qc(&mut w, &range.proof.child_qc);
        }
    }
    w.finish()
}

/// Whether `bytes` claim to be a bulk message (a DA proposal, a share, a range of headers), by their tag and kind
/// byte alone, before any decoding: the receiver drops second copies of small messages only, since a bulk copy
/// may be a resend of data whose first copy was not usable.
pub fn is_bulk_bytes(bytes: &[u8]) -> bool {
    bytes.len() > 4
        && bytes[..3] == TAG[..]
        && matches!(bytes[4], kind::DA_PROPOSAL | kind::VID_SHARE | kind::SYNC_RESPONSE)
}

/// Decodes a message under `limits`; a typed error, never a panic, on anything else.
pub fn decode<C: CertScheme>(bytes: &[u8], l: &WireLimits) -> Result<Message<C>, WireError> {
    if bytes.len() > l.max_message() {
        return Err(WireError::OverLimit { what: "message", got: bytes.len() as u64, max: l.max_message() as u64 });
    }
    let mut r = Reader::new(bytes, TAG, "consensus message", VERSION)?;
    let msg = match r.u8("message kind")? {
        kind::PROPOSAL => Message::Proposal(read_proposal(&mut r, l)?),
        kind::VOTE => Message::Vote(Vote {
            view: u64_(&mut r, "vote view")?,
            block: digest(&mut r, "vote block")?,
            voter: node(&mut r, "voter")?,
            sig: C::read_sig(&mut r)?,
        }),
        kind::DA_PROPOSAL => Message::DaProposal(DaProposal {
            view: u64_(&mut r, "da proposal view")?,
            commitment: digest(&mut r, "da proposal commitment")?,
            payload: Arc::new(r.len_bytes("block payload", l.max_payload as u64)?.to_vec()),
            sig: C::read_sig(&mut r)?,
        }),
        kind::DA_VOTE => Message::DaVote(DaVote {
            view: u64_(&mut r, "da vote view")?,
            commitment: digest(&mut r, "da vote commitment")?,
            voter: node(&mut r, "da voter")?,
            sig: C::read_sig(&mut r)?,
        }),
        kind::DA_CERTIFICATE => Message::DaCertificate(DaCert {
            view: u64_(&mut r, "da certificate view")?,
            commitment: digest(&mut r, "da certificate commitment")?,
            cert: C::read_cert(&mut r, l.max_nodes)?,
        }),
        kind::VID_SHARE => Message::VidShare(VidShare {
            view: u64_(&mut r, "share view")?,
            commitment: digest(&mut r, "share commitment")?,
            node: node(&mut r, "share node")?,
            common: Arc::new(r.len_bytes("vid common data", l.max_common as u64)?.to_vec()),
            share: r.len_bytes("vid share", l.max_share as u64)?.to_vec(),
        }),
        kind::TIMEOUT => {
            let view = u64_(&mut r, "timeout view")?;
            let high_qc = read_qc(&mut r, l)?;
            Message::Timeout(TimeoutVote {
                view,
                high_qc,
                voter: node(&mut r, "timeout voter")?,
                sig: C::read_sig(&mut r)?,
            })
        }
        kind::VIEW_SYNC => {
            let sender = node(&mut r, "view sync sender")?;
            let high_qc = read_qc(&mut r, l)?;
            Message::ViewSync { sender, high_qc, tc: read_option_tc(&mut r, l)? }
        }
        kind::FETCH_REQUEST => {
            Message::FetchRequest { requester: node(&mut r, "requester")?, block: digest(&mut r, "fetched block")? }
        }
        kind::FETCH_RESPONSE => Message::FetchResponse(read_proposal(&mut r, l)?),
        kind::SHARE_REQUEST => Message::ShareRequest {
            requester: node(&mut r, "requester")?,
            view: u64_(&mut r, "share request view")?,
            commitment: digest(&mut r, "share request commitment")?,
        },
        kind::SYNC_REQUEST => {
            Message::SyncRequest { requester: node(&mut r, "requester")?, from_height: u64_(&mut r, "from height")? }
        }
        kind::SYNC_RESPONSE => {
            let count = r.u32_max("decided headers", MAX_SYNC_BLOCKS as u64)? as usize;
            let mut blocks = Vec::with_capacity(count);
            for _ in 0..count {
                let h = read_header(&mut r)?;
                blocks.push((h, read_qc(&mut r, l)?));
            }
            let child = read_header(&mut r)?;
            let child_qc = read_qc(&mut r, l)?;
            Message::SyncResponse(DecidedRange { blocks, proof: CommitProof { child, child_qc } })
        }
        k => return Err(WireError::Invalid { what: "message kind", reason: format!("{k} names no message") }),
    };
    r.finish()?;
    Ok(msg)
}

/// The view a message is about, if it has one (for logs and per-view limits).
pub fn view_of<C: CertScheme>(msg: &Message<C>) -> Option<View> {
    match msg {
        Message::Proposal(p) | Message::FetchResponse(p) => Some(p.header.view),
        Message::Vote(v) => Some(v.view),
        Message::DaProposal(d) => Some(d.view),
        Message::DaVote(v) => Some(v.view),
        Message::DaCertificate(c) => Some(c.view),
        Message::VidShare(s) => Some(s.view),
        Message::Timeout(t) => Some(t.view),
        Message::ShareRequest { view, .. } => Some(*view),
        Message::ViewSync { .. }
        | Message::FetchRequest { .. }
        | Message::SyncRequest { .. }
        | Message::SyncResponse(_) => None,
    }
}
