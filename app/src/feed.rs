//! The browser's end of the live run feed (`/api/feed`, SPEC §9.2).
//!
//! [`FeedState`] holds what the feed has told this tab, as signals any component can read. In the
//! browser, one WebSocket per tab fills it: the server's `Hello` turns the indicator "live", each
//! `Heartbeat` updates the time shown, and when the socket closes (server restart, network) the tab
//! reconnects with exponential backoff (0.5 s doubling up to 10 s) without reloading the page,
//! asking to resume after the last event it applied (`?since=N`: `Resumed` keeps its log). The
//! server-rendered HTML always says "offline": only a connected, hydrated page can be live.
//!
//! The page is server-rendered with islands: each island hydrates on its own, with no context from
//! the page around it, so the islands that show the feed (the header's indicator, the dashboard's
//! banner, the run page's live part) all read the one state of the tab, [`FeedState::shared`]. The
//! header's island connects it once signed in ([`FeedState::connect`]) and keeps it for the whole
//! visit: navigation between pages swaps the page around it (server/public/nav.js), never the tab.

use crate::navigation::{Island, IslandRoot};
use chrono::{DateTime, Utc};
use engine::model::events::RunEvent;
use engine::model::feed::{apply_event, ActiveRun, FeedMessage, LogLine};
use leptos::prelude::*;
use std::collections::VecDeque;

/// Log lines a tab keeps (and so at most renders): a 100 000-line log never freezes the page.
pub const LOG_DOM_CAP: usize = 1000;

/// The state of this tab's link to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Offline,
    Connecting,
    Live,
}

impl Link {
    fn as_str(self) -> &'static str {
        match self {
            Link::Offline => "offline",
            Link::Connecting => "connecting",
            Link::Live => "live",
        }
    }
}

/// What the feed has told this tab so far.
#[derive(Clone, Copy)]
pub struct FeedState {
    pub link: RwSignal<Link>,
    pub last_heartbeat: RwSignal<Option<DateTime<Utc>>>,
    pub server_version: RwSignal<Option<String>>,
    pub active_run: RwSignal<Option<ActiveRun>>,
    /// The newest log lines of the active run, at most [`LOG_DOM_CAP`], each with a running number.
    pub log: RwSignal<VecDeque<(u64, LogLine)>>,
    /// Sequence number of the newest event applied.
    pub seq: RwSignal<u64>,
}

impl FeedState {
    /// The tab's feed state: in the browser one for the whole tab, made by the first island that
    /// asks; on the server a fresh, offline one for each island rendered.
    pub fn shared() -> FeedState {
        #[cfg(feature = "hydrate")]
        {
            thread_local! {
                static TAB: std::cell::OnceCell<FeedState> = const { std::cell::OnceCell::new() };
            }
            TAB.with(|tab| {
                *tab.get_or_init(|| {
                    // Made under an owner of its own that lives as long as the tab, so no
                    // island's cleanup disposes of it. A new root makes itself the current
                    // owner: the island that asked gets its own back, or its cleanup (when
                    // navigation removes it) would dispose of the tab's feed.
                    let outer = Owner::current();
                    let owner = Owner::new_root(None);
                    let state = owner.with(FeedState::new);
                    match outer {
                        Some(outer) => outer.set(),
                        None => owner.clone().unset(),
                    }
                    std::mem::forget(owner);
                    state
                })
            })
        }
        #[cfg(not(feature = "hydrate"))]
        FeedState::new()
    }

    /// Opens the tab's WebSocket, unless it is open already (a signed-in page's header).
    pub fn connect(&self) {
        #[cfg(feature = "hydrate")]
        client::start(*self);
    }

    /// Closes it and forgets what it said (the sign-in pages: no session, nothing to follow).
    pub fn disconnect(&self) {
        #[cfg(feature = "hydrate")]
        client::stop();
        self.link.set(Link::Offline);
        self.server_version.set(None);
        self.last_heartbeat.set(None);
        self.active_run.set(None);
        self.log.set(VecDeque::new());
        self.seq.set(0);
    }

    fn new() -> FeedState {
        FeedState {
            link: RwSignal::new(Link::Offline),
            last_heartbeat: RwSignal::new(None),
            server_version: RwSignal::new(None),
            active_run: RwSignal::new(None),
            log: RwSignal::new(VecDeque::new()),
            seq: RwSignal::new(0),
        }
    }

    /// Applies one message from the server.
    pub fn apply(&self, msg: FeedMessage) {
        match msg {
            FeedMessage::Hello {
                version,
                active_run,
                seq,
                ..
            } => {
                self.server_version.set(Some(version));
                // A fresh state: the log restarts from the state's tail.
                let log = active_run
                    .as_ref()
                    .map(|r| {
                        let first = r.log_count.saturating_sub(r.log_tail.len() as u64);
                        r.log_tail
                            .iter()
                            .cloned()
                            .enumerate()
                            .map(|(i, l)| (first + i as u64, l))
                            .collect()
                    })
                    .unwrap_or_default();
                self.log.set(log);
                self.active_run.set(active_run);
                self.seq.set(seq);
                self.link.set(Link::Live);
            }
            FeedMessage::Resumed { version, .. } => {
                self.server_version.set(Some(version));
                self.link.set(Link::Live);
            }
            FeedMessage::Events { events } => {
                let Some(last) = events.last().map(|e| e.seq) else {
                    return;
                };
                self.active_run.update(|state| {
                    for e in &events {
                        apply_event(state, &e.event);
                    }
                });
                self.log.update(|log| {
                    for e in &events {
                        match &e.event {
                            RunEvent::RunStarted { .. } => log.clear(),
                            RunEvent::Log {
                                task,
                                step,
                                level,
                                line,
                                ..
                            } => {
                                let n = log.back().map(|(n, _)| n + 1).unwrap_or(0);
                                log.push_back((
                                    n,
                                    LogLine {
                                        task: task.clone(),
                                        step: *step,
                                        level: *level,
                                        line: line.clone(),
                                    },
                                ));
                            }
                            _ => {}
                        }
                    }
                    while log.len() > LOG_DOM_CAP {
                        log.pop_front();
                    }
                });
                self.seq.set(last);
            }
            FeedMessage::Heartbeat { server_time, .. } => {
                self.last_heartbeat.set(Some(server_time));
            }
        }
    }
}

/// Refreshes the page in place when a run it shows ends, so the server renders what the run left
/// (snapshots, statuses, logs): the live parts are islands, the rest of the page is server-rendered
/// HTML ([`crate::navigation::refresh`]: fetched again and patched, scroll kept). A run
/// ends "on this page" when the feed showed it running here, or when the server rendered it as
/// running (`rendered_running`, its id) and the feed now says it is over; a run that was already over
/// when the page was rendered never refreshes it. `only` limits this to one run (the run page).
pub fn refresh_when_a_run_ends(
    island: Island,
    state: FeedState,
    rendered_running: Option<i64>,
    only: Option<i64>,
) {
    // The feed has one active run at a time: the last one seen running is all there is to remember.
    let seen_running = StoredValue::new(None::<i64>);
    // Once per run: a refresh that keeps this island (same props) must not refresh again.
    let refreshed_for = StoredValue::new(None::<i64>);
    Effect::new(move |_| {
        // A retired island (its page left) stops watching.
        if !island.present() {
            return;
        }
        let Some((id, running)) = state
            .active_run
            .with(|r| r.as_ref().map(|r| (r.run_id, r.is_running())))
        else {
            return;
        };
        if only.is_some_and(|only| only != id) {
            return;
        }
        if running {
            seen_running.set_value(Some(id));
        } else if (rendered_running == Some(id) || seen_running.get_value() == Some(id))
            && refreshed_for.get_value() != Some(id)
        {
            refreshed_for.set_value(Some(id));
            crate::navigation::refresh();
        }
    });
}

/// An island with nothing to show: it refreshes a server-rendered page (History, Snapshots) in
/// place when a run ends, as [`refresh_when_a_run_ends`] says.
#[island]
pub fn RefreshWhenRunEnds(rendered_running: Option<i64>) -> impl IntoView {
    let island = Island::start();
    refresh_when_a_run_ends(island, FeedState::shared(), rendered_running, None);
    view! { <IslandRoot island>""</IslandRoot> }
}

/// "offline" / "connecting" / "live", and the time of the last heartbeat.
#[component]
pub fn FeedIndicator(state: FeedState) -> impl IntoView {
    // Once its island has left the page, it follows nothing more.
    let island = Island::around();
    let present = Memo::new(move |_| island.is_none_or(|i| i.present()));
    let label = move || {
        if present.get() {
            state.link.get().as_str()
        } else {
            Link::Offline.as_str()
        }
    };
    let beat = move || match present.get().then(|| state.last_heartbeat.get()).flatten() {
        Some(t) => format!("heartbeat {}", clock_time(t)),
        None => String::new(),
    };
    view! {
        <span class="feed" role="status" aria-live="polite" data-state=label
            title="Live connection to the server">
            <span class="feed-dot" aria-hidden="true"></span>
            <span class="feed-label">{label}</span>
            <span class="feed-beat">{beat}</span>
        </span>
    }
}

/// The run in progress, as a link to its page ("Run 12 running"); nothing when none is. In the
/// header, so a run started elsewhere (the schedule, another tab) shows on every page at once.
#[component]
pub fn ActiveRunLink(state: FeedState) -> impl IntoView {
    let island = Island::around();
    move || {
        if !island.is_some_and(|i| i.live()) {
            return None;
        }
        let id = state
            .active_run
            .with(|r| r.as_ref().filter(|r| r.is_running()).map(|r| r.run_id))?;
        Some(
            view! { <a class="feed-run" href=format!("/runs/{id}")>{format!("Run {id} running")}</a> },
        )
    }
}

/// A time as the browser's clock shows it (local zone); on the server, UTC.
fn clock_time(t: DateTime<Utc>) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
        String::from(date.to_locale_time_string("en-GB"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        t.format("%H:%M:%S UTC").to_string()
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{FeedState, Link};
    use engine::model::feed::FeedMessage;
    use leptos::prelude::{GetUntracked, Set};
    use std::cell::{Cell, RefCell};
    use std::time::Duration;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    /// The open socket and the callbacks it calls; replaced on every reconnect.
    struct Connection {
        socket: WebSocket,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    thread_local! {
        static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
        static FAILURES: Cell<u32> = const { Cell::new(0) };
        static STARTED: Cell<bool> = const { Cell::new(false) };
    }

    pub fn start(state: FeedState) {
        if STARTED.with(|s| s.replace(true)) {
            return;
        }
        FAILURES.with(|f| f.set(0));
        connect(state);
    }

    pub fn stop() {
        STARTED.with(|s| s.set(false));
        CONNECTION.with(|c| {
            if let Some(old) = c.borrow_mut().take() {
                old.socket.set_onclose(None);
                let _ = old.socket.close();
            }
        });
    }

    fn feed_url(since: u64) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        let query = if since > 0 {
            format!("?since={since}")
        } else {
            String::new()
        };
        Some(format!(
            "{scheme}://{}/api/feed{query}",
            location.host().ok()?
        ))
    }

    fn connect(state: FeedState) {
        // A retry that fires after sign-out stays quiet.
        if !STARTED.with(|s| s.get()) {
            return;
        }
        // After a reconnect, ask for what was missed since the last event applied.
        let since = if state.server_version.get_untracked().is_some() {
            state.seq.get_untracked()
        } else {
            0
        };
        let Some(url) = feed_url(since) else { return };
        let socket = match WebSocket::new(&url) {
            Ok(s) => s,
            Err(_) => return retry_later(state),
        };
        state.link.set(Link::Connecting);

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            match serde_json::from_str::<FeedMessage>(&text) {
                Ok(msg) => {
                    if matches!(msg, FeedMessage::Hello { .. } | FeedMessage::Resumed { .. }) {
                        FAILURES.with(|f| f.set(0));
                    }
                    state.apply(msg);
                }
                Err(e) => leptos::logging::warn!("feed: unreadable message: {e}"),
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_ev: CloseEvent| {
            state.link.set(Link::Offline);
            retry_later(state);
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        CONNECTION.with(|c| {
            if let Some(old) = c.borrow_mut().replace(Connection {
                socket,
                _on_message: on_message,
                _on_close: on_close,
            }) {
                old.socket.set_onclose(None);
                let _ = old.socket.close();
            }
        });
    }

    /// Reconnects after 0.5 s, 1 s, 2 s, ... up to 10 s between attempts.
    fn retry_later(state: FeedState) {
        let failures = FAILURES.with(|f| {
            let n = f.get();
            f.set(n.saturating_add(1));
            n
        });
        let delay_ms = (500u64 << failures.min(5)).min(10_000);
        leptos::prelude::set_timeout(move || connect(state), Duration::from_millis(delay_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::model::events::{LogLevel, Trigger};
    use engine::model::feed::Sequenced;

    #[test]
    fn a_huge_log_keeps_only_the_newest_lines_in_the_page() {
        Owner::new().with(|| {
            let state = FeedState::shared();
            let start = Sequenced {
                seq: 1,
                event: RunEvent::RunStarted {
                    run_id: 1,
                    trigger: Trigger::Manual,
                    tasks: vec!["A".into()],
                    at: chrono::Utc::now(),
                },
            };
            state.apply(FeedMessage::Events {
                events: vec![start],
            });
            // 100 000 lines, in batches as the server sends them.
            for batch in 0..100u64 {
                let events = (0..1000u64)
                    .map(|i| Sequenced {
                        seq: 2 + batch * 1000 + i,
                        event: RunEvent::Log {
                            run_id: 1,
                            task: Some("A".into()),
                            step: None,
                            level: LogLevel::Info,
                            line: format!("line {}", batch * 1000 + i),
                        },
                    })
                    .collect();
                state.apply(FeedMessage::Events { events });
            }
            let log = state.log.get_untracked();
            assert_eq!(log.len(), LOG_DOM_CAP);
            assert_eq!(log.back().unwrap().1.line, "line 99999");
            assert_eq!(state.seq.get_untracked(), 100_001);
            // The run state counts every line but keeps only its tail.
            let run = state.active_run.get_untracked().unwrap();
            assert_eq!(run.log_count, 100_000);
        });
    }
}
