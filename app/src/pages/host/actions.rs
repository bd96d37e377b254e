//! What the host view and its Share dialog share: the actions a host can take, and the slices
//! of the session the dialog shows. Both pages import them from here, not from each other.
use crate::functions::sessions::{GenerateNewCode, RenameSession, SetSessionOpen};
use crate::functions::sharing::{AddFacilitators, RemoveFacilitator, SendInvitations};
use crate::functions::slides::{AddSlide, DeleteSlide, MoveSlide, ShowSlide, UpdateSlide};
use crate::ids::SessionId;
use crate::states::{FacilitatorView, WaysIn};
use leptos::prelude::*;

/// Every action of the host view; the session is read again after any of them.
#[derive(Clone, Copy)]
pub(in crate::pages) struct HostActions {
    pub set_open: ServerAction<SetSessionOpen>,
    pub generate: ServerAction<GenerateNewCode>,
    pub add: ServerAction<AddSlide>,
    pub update: ServerAction<UpdateSlide>,
    pub reorder: ServerAction<MoveSlide>,
    pub delete: ServerAction<DeleteSlide>,
    pub show: ServerAction<ShowSlide>,
    pub invite: ServerAction<SendInvitations>,
    pub add_facilitators: ServerAction<AddFacilitators>,
    pub remove: ServerAction<RemoveFacilitator>,
    pub rename: ServerAction<RenameSession>,
}

impl HostActions {
    pub(in crate::pages) fn new() -> Self {
        Self {
            set_open: ServerAction::new(),
            generate: ServerAction::new(),
            add: ServerAction::new(),
            update: ServerAction::new(),
            reorder: ServerAction::new(),
            delete: ServerAction::new(),
            show: ServerAction::new(),
            invite: ServerAction::new(),
            add_facilitators: ServerAction::new(),
            remove: ServerAction::new(),
            rename: ServerAction::new(),
        }
    }

    /// Sending participant invitations changes nothing on the page, so it is not listed.
    pub(in crate::pages) fn versions(&self) -> [usize; 10] {
        [
            self.set_open.version().get(),
            self.generate.version().get(),
            self.add.version().get(),
            self.update.version().get(),
            self.reorder.version().get(),
            self.delete.version().get(),
            self.show.version().get(),
            self.add_facilitators.version().get(),
            self.remove.version().get(),
            self.rename.version().get(),
        ]
    }
}

/// The slices of the session the Share dialog shows.
#[derive(Clone, Copy)]
pub(in crate::pages) struct HostParts {
    pub id: SessionId,
    pub role: crate::rules::sessions::Role,
    pub ways_in: Memo<WaysIn>,
    pub is_open: Memo<bool>,
    pub facilitators: Memo<Vec<FacilitatorView>>,
}
