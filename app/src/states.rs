//! The live states: what hosts and participants see of a session. The live protocol
//! (`live_protocol.rs`), the hub (`services/live_hub.rs`), the server functions and the pages all
//! speak these types, which depend on nothing above them. Reading them from storage is
//! `services/states_from_storage.rs`.
use crate::ids::{FacilitatorId, MessageId, SessionId, SlideId};
use crate::rules::discussion::{DiscussionSettings, MessageState};
use serde::{Deserialize, Serialize};

/// The session as every host sees it, whatever their role: the live channel sends this same
/// value, serialized once, to every host's tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    /// When the reads behind this state began (µs since the epoch). A tab that holds two states
    /// (a reload after its own action, a pushed one) shows the later.
    pub stamp: i64,
    pub id: SessionId,
    pub title: String,
    pub is_open: bool,
    pub ways_in: WaysIn,
    pub slides: Vec<SlideView>,
    pub active_slide: Option<SlideId>,
    pub facilitators: Vec<FacilitatorView>,
    /// When an open session closes by itself if no host has it in hand by then (µs since the
    /// epoch: each page writes the day in its language); `None` when closed or when sessions
    /// never close by themselves.
    pub closes_by_itself_on: Option<i64>,
}

/// The part of a session every participant sees alike: the live channel sends this same value,
/// serialized once, to every participant's tab. A closed session shows them nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicState {
    /// When the reads behind it began (µs since the epoch): a tab shows the latest it holds.
    pub stamp: i64,
    pub view: PublicView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublicView {
    Closed,
    Open {
        title: String,
        slide: Option<SlideView>,
    },
    /// Its owner deleted it: "This session no longer exists." The last state a session sends.
    Deleted,
}

impl PublicState {
    /// What participants see of a session: nothing while it is closed; its title and the slide
    /// shown while it is open.
    pub fn new(stamp: i64, is_open: bool, title: &str, slide: Option<SlideView>) -> Self {
        let view = if is_open { PublicView::Open { title: title.to_owned(), slide } } else { PublicView::Closed };
        Self { stamp, view }
    }

    /// The same, from what hosts see (the live hub has read that already).
    pub fn of_host(host: &HostState) -> Self {
        let slide = host.active_slide.and_then(|active| host.slides.iter().find(|s| s.id == active).cloned());
        Self::new(host.stamp, host.is_open, &host.title, slide)
    }
}

/// A slide as hosts and participants see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlideView {
    pub id: SlideId,
    pub content: SlideContent,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SlideContent {
    /// Always the session's current code and link.
    LinkAndQr(WaysIn),
    Text {
        title: String,
        body: String,
    },
}

/// How to join a session right now.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaysIn {
    /// Grouped for reading aloud: "012 345".
    pub code: String,
    /// Absolute, from `PUBLIC_URL`.
    pub link: String,
    /// The QR code of `link`, as SVG and PNG downloads.
    pub qr_svg: String,
    pub qr_png: String,
}

/// A co-facilitator as the Share dialog lists them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FacilitatorView {
    pub id: FacilitatorId,
    pub email: String,
    pub display_name: Option<String>,
    /// Invited until they accept; Active afterwards.
    pub active: bool,
}

/// A message of the Discussion as tabs show it. The same value goes to everyone allowed to see
/// it: it never says who wrote it beyond the name shown, so an anonymous Discussion stays so.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    /// The nickname it was posted under; `None` in an anonymous Discussion.
    pub author: Option<String>,
    pub body: String,
    pub state: MessageState,
    pub pinned: bool,
    pub answered: bool,
    pub likes: u32,
    /// When it was posted (µs since the epoch): the list's order and its paging cursor.
    pub posted_at: i64,
    pub edited: bool,
}

/// What a participant's page loads of the Discussion: its settings, the newest published
/// messages, and what is this participant's own (their messages, whatever their state, and
/// their likes), which the shared live messages do not say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscussionView {
    pub settings: DiscussionSettings,
    /// Newest first, at most `rules::discussion::MESSAGES_PER_PAGE`.
    pub messages: Vec<MessageView>,
    /// Whether older messages than those are there to read.
    pub more: bool,
    pub mine: Vec<MessageView>,
    pub liked: Vec<MessageId>,
    /// Where the live Discussion log was before these were read, when known: the tab's socket
    /// starts from there, and is sent only what changed since, not a snapshot.
    pub seq: Option<u64>,
}
