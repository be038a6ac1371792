//! What the binding tracks per socket besides the core socket itself: whether it receives,
//! whether it keeps the event loop alive, its queued sends and its JavaScript event callback.

use std::ptr;

use dgramx_core::sender::{Completion, RequestId, Sender};
use dgramx_core::{DgramSocket, SysError};
use mio::Interest;
use napi::sys;

use crate::driver::Driver;

pub struct SocketState {
    pub sock: Option<DgramSocket>,
    pub token: usize,
    pub receiving: bool,
    pub refd: bool,
    /// Receive credentials and descriptors with each datagram (costs a control buffer):
    /// on while either of the two below is.
    pub unix_ancillary: bool,
    /// SO_PASSCRED is on (credentials arrive with every datagram).
    pub pass_credentials: bool,
    /// Descriptors sent with datagrams are wanted.
    pub receive_fds: bool,
    /// Receive IP metadata (destination, interface, TTL, TOS, timestamp) with each datagram.
    pub meta: bool,
    /// UDP GRO is on: received buffers may hold several datagrams to split.
    pub gro: bool,
    /// The facade takes whole batches ('messages' listeners): one callback per recvmmsg batch
    /// instead of one per datagram.
    pub batch: bool,
    /// The receive buffer size last set; sizes the receive slots of unix sockets.
    pub recv_slot: usize,
    /// Every send goes through here (queue, batching, GSO, outcomes by request id).
    pub sender: Sender,
    interest: Option<Interest>,
    /// The last flush moved nothing although datagrams wait. Writable readiness is then no
    /// news: an unconnected unix sender whose peer stopped reading frees its own skb on every
    /// refused try, which signals writable at once, so waiting for it would spin (and, with
    /// the thread driver, starve the event loop). The driver's retry timer (1 ms doubling to
    /// 16 ms while nothing moves) looks again instead, until a flush makes progress.
    stalled: bool,
    holding: bool,
    /// The JS `onEvent` function. Strong only while events can arrive (receiving or sends
    /// queued), so an idle socket nobody references can be garbage-collected and closed.
    callback: sys::napi_ref,
    /// The async context events run in (the socket's creation context, like node's UDPWRAP);
    /// null when the facade did not ask for one.
    async_context: sys::napi_async_context,
    /// Keeps the async context's resource object alive (see NativeSocket::new).
    pub resource: sys::napi_ref,
    strong: bool,
    env: sys::napi_env,
}

impl SocketState {
    pub fn new(
        sock: DgramSocket,
        env: sys::napi_env,
        callback: sys::napi_ref,
        async_context: sys::napi_async_context,
    ) -> SocketState {
        SocketState {
            sock: Some(sock),
            token: 0,
            receiving: false,
            refd: true,
            unix_ancillary: false,
            pass_credentials: false,
            receive_fds: false,
            meta: false,
            gro: false,
            batch: false,
            recv_slot: 0,
            sender: Sender::new(),
            interest: None,
            stalled: false,
            holding: false,
            callback,
            async_context,
            resource: ptr::null_mut(),
            strong: false,
            env,
        }
    }

    pub fn receiving_socket(&self) -> Option<&DgramSocket> {
        if self.receiving {
            self.sock.as_ref()
        } else {
            None
        }
    }

    pub fn callback(&self) -> crate::js::Callback {
        crate::js::Callback {
            func: self.callback,
            async_context: self.async_context,
        }
    }

    /// Sends what the kernel will take now; returns the finished requests' completions.
    pub fn flush_queue(&mut self, driver: &Driver) -> Vec<Completion> {
        let mut results = Vec::new();
        if let Some(sock) = self.sock.as_ref() {
            self.sender.flush(sock, &mut results);
        }
        self.stalled = results.is_empty() && self.sender.has_queued();
        // A failure to re-arm would only mean a stalled queue; it resurfaces on the next send.
        let _ = self.sync(driver);
        results
    }

    /// Brings readiness interest, loop liveness and callback strength in line with the state.
    pub fn sync(&mut self, driver: &Driver) -> Result<(), SysError> {
        let pending = self.sender.has_queued();
        let want = match (
            self.sock.is_some() && self.receiving,
            self.sock.is_some() && pending && !self.stalled,
        ) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        };
        let applied = match self.sock.as_mut() {
            Some(sock) => driver.set_interest(sock, self.token, self.interest, want),
            None => Ok(()),
        };
        if applied.is_ok() {
            self.interest = want;
        }
        let holding = self.sock.is_some() && ((self.receiving && self.refd) || pending);
        driver.set_holding(self.holding, holding);
        self.holding = holding;
        self.set_strong(self.sock.is_some() && (self.receiving || pending));
        applied
    }

    fn set_strong(&mut self, strong: bool) {
        if strong == self.strong || self.callback.is_null() {
            return;
        }
        let mut count = 0;
        // SAFETY: callback is a live reference created on this env's thread.
        unsafe {
            if strong {
                sys::napi_reference_ref(self.env, self.callback, &mut count);
            } else {
                sys::napi_reference_unref(self.env, self.callback, &mut count);
            }
        }
        self.strong = strong;
    }

    /// Stops everything and closes the descriptor; returns the ids of the dropped sends.
    pub fn close(&mut self, driver: &Driver) -> Vec<RequestId> {
        self.receiving = false;
        let dropped = self.sender.clear();
        if self.sock.is_some() {
            // Deregister while the descriptor is still open, then drop (close) it.
            if let Some(sock) = self.sock.as_mut() {
                let _ = driver.set_interest(sock, self.token, self.interest, None);
            }
            self.interest = None;
            self.sock = None;
            driver.remove(self.token);
        }
        let _ = self.sync(driver);
        dropped
    }

    /// Releases the callback reference (the JS object is being collected or the env is ending).
    pub fn release_callback(&mut self, env: sys::napi_env) {
        if !self.callback.is_null() {
            // SAFETY: the reference was created on this env and is deleted exactly once.
            unsafe { sys::napi_delete_reference(env, self.callback) };
            self.callback = ptr::null_mut();
        }
        if !self.async_context.is_null() {
            // SAFETY: created by napi_async_init on this env and destroyed exactly once.
            unsafe { sys::napi_async_destroy(env, self.async_context) };
            self.async_context = ptr::null_mut();
        }
        if !self.resource.is_null() {
            // SAFETY: the reference was created on this env and is deleted exactly once.
            unsafe { sys::napi_delete_reference(env, self.resource) };
            self.resource = ptr::null_mut();
        }
    }
}
