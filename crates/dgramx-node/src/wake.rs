//! How readiness reaches the JavaScript thread. Two ways, chosen once per env:
//!
//! - **uv-poll** (Unix): one libuv poll handle watches the reactor's epoll/kqueue descriptor
//!   from Node's own loop, so a wake-up costs no extra thread. A libuv timer retries stalled
//!   send queues.
//! - **thread** (Windows, where mio's poller has no descriptor; on Unix with
//!   `DGRAMX_DRIVER=thread`, e.g. for runtimes whose libuv symbols are stubs): the reactor
//!   blocks on a thread of its own and hands ready sockets over through one threadsafe
//!   function call per batch. It costs a cross-thread wake-up per batch (tens of µs on these
//!   machines) but uses only Node-API. The thread's wait timeout doubles as the retry timer.
//!
//! Either way the sockets' I/O itself happens on the JavaScript thread, in `Driver::dispatch`.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dgramx_core::reactor::{Reactor, Ready, Registrar};
use dgramx_core::SysError;
use napi::sys;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    UvPoll,
    Thread,
}

/// What the facade learned about the host runtime (see `set_host_hint`).
static HOST_LACKS_LIBUV: AtomicBool = AtomicBool::new(false);

/// The facade tells us when it runs under a runtime (Bun, Deno) whose libuv exports are
/// stubs that abort the process or handles that never fire: calling them cannot be probed
/// safely, so only the host's own identity tells.
pub fn set_host_lacks_libuv(lacks: bool) {
    HOST_LACKS_LIBUV.store(lacks, Ordering::Relaxed);
}

impl Mode {
    /// Windows has only the thread. Elsewhere `DGRAMX_DRIVER` wins; otherwise uv-poll when
    /// the host really runs libuv, the thread when it does not (see `host_runs_libuv`).
    pub fn for_this_process() -> Mode {
        if cfg!(not(unix)) {
            return Mode::Thread;
        }
        match std::env::var("DGRAMX_DRIVER").as_deref() {
            Ok("thread") => Mode::Thread,
            Ok("uv-poll") => Mode::UvPoll,
            _ if host_runs_libuv() => Mode::UvPoll,
            _ => Mode::Thread,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::UvPoll => "uv-poll",
            Mode::Thread => "thread",
        }
    }
}

/// Whether uv-poll can work here: the facade has not flagged the runtime, and the process
/// exports every libuv function we call (a host without them would fail at the first call).
fn host_runs_libuv() -> bool {
    if HOST_LACKS_LIBUV.load(Ordering::Relaxed) {
        return false;
    }
    #[cfg(unix)]
    {
        crate::uv::symbols_present()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// What the driver calls back into when the wake-up source fires.
pub struct Callbacks {
    /// Sockets are ready (or a kick asked for another pass).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub on_ready: unsafe extern "C" fn(*mut c_void, std::ffi::c_int, std::ffi::c_int),
    /// The retry delay passed.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub on_retry: unsafe extern "C" fn(*mut c_void),
    /// Thread mode: runs on the JS thread for each batch handed over.
    pub on_batch: fn(retry_due: bool),
}

pub enum Wake {
    #[cfg(unix)]
    UvPoll(UvPoll),
    Thread(ReactorThread),
}

impl Wake {
    /// Starts the wake-up source for `env` and returns it with the registrar sockets use.
    pub fn start(
        env: sys::napi_env,
        mode: Mode,
        callbacks: Callbacks,
    ) -> Result<(Wake, Registrar), SysError> {
        let reactor = Reactor::new().map_err(|e| SysError::from_io(&e, "epoll_create"))?;
        let registrar = reactor
            .registrar()
            .map_err(|e| SysError::from_io(&e, "epoll_create"))?;
        let wake = match mode {
            // A host that has no libuv loop to give (napi_get_uv_event_loop fails) still gets
            // a working driver: the thread needs only Node-API.
            #[cfg(unix)]
            Mode::UvPoll if crate::uv::event_loop(env).is_none() => {
                Wake::Thread(ReactorThread::start(env, reactor, callbacks.on_batch)?)
            }
            #[cfg(unix)]
            Mode::UvPoll => Wake::UvPoll(UvPoll::start(env, reactor, &callbacks)?),
            #[cfg(not(unix))]
            Mode::UvPoll => unreachable!("uv-poll mode is Unix-only"),
            Mode::Thread => Wake::Thread(ReactorThread::start(env, reactor, callbacks.on_batch)?),
        };
        Ok((wake, registrar))
    }

    pub fn mode(&self) -> Mode {
        match self {
            #[cfg(unix)]
            Wake::UvPoll(_) => Mode::UvPoll,
            Wake::Thread(_) => Mode::Thread,
        }
    }

    /// Appends what is ready now (uv-poll asks the reactor; the thread already did).
    pub fn take_ready(&self, out: &mut Vec<Ready>) {
        match self {
            #[cfg(unix)]
            Wake::UvPoll(u) => {
                // A failed poll only means no news this time; the next edge brings it back.
                let _ = u.reactor.borrow_mut().poll_ready(out);
            }
            Wake::Thread(t) => t.take_ready(out),
        }
    }

    /// Makes the driver run another pass soon (a receive budget ran out with data left).
    pub fn kick(&self, registrar: &Registrar) {
        match self {
            #[cfg(unix)]
            Wake::UvPoll(_) => {
                let _ = registrar.kick();
            }
            Wake::Thread(t) => {
                let _ = registrar;
                t.shared.notify(t.tsfn.get());
            }
        }
    }

    /// Keeps the event loop alive (or not) while sockets receive or have sends queued.
    pub fn set_ref(&self, env: sys::napi_env, on: bool) {
        match self {
            #[cfg(unix)]
            Wake::UvPoll(u) => {
                let _ = env;
                if let Some(p) = u.poll.borrow().as_ref() {
                    p.set_ref(on);
                }
            }
            Wake::Thread(t) => t.set_ref(env, on),
        }
    }

    /// Asks for `on_retry` (or a batch with `retry_due`) after `ms` milliseconds.
    pub fn schedule_retry(&self, ms: u64, registrar: &Registrar) {
        match self {
            #[cfg(unix)]
            Wake::UvPoll(u) => {
                let _ = registrar;
                if let Some(t) = u.retry.borrow().as_ref() {
                    t.timer_start(u.on_retry, ms);
                }
            }
            Wake::Thread(t) => {
                *lock(&t.shared.retry_at) = Some(Instant::now() + Duration::from_millis(ms));
                // Only to make the thread recompute its timeout; a kick alone notifies nobody.
                let _ = registrar.kick();
            }
        }
    }

    /// Stops the source. Returns how many libuv handles are still closing (their close
    /// callbacks call `driver::handle_closed`).
    pub fn shut_down(&self, registrar: &Registrar) -> usize {
        match self {
            #[cfg(unix)]
            Wake::UvPoll(u) => {
                let _ = registrar;
                let handles = [u.poll.borrow_mut().take(), u.retry.borrow_mut().take()];
                let mut closing = 0;
                for h in handles.into_iter().flatten() {
                    closing += 1;
                    h.close();
                }
                closing
            }
            Wake::Thread(t) => {
                t.stop(registrar);
                0
            }
        }
    }
}

// ---- uv-poll ----------------------------------------------------------------------------

#[cfg(unix)]
pub struct UvPoll {
    reactor: RefCell<Reactor>,
    poll: RefCell<Option<crate::uv::Handle>>,
    /// Retries stalled send queues: an unconnected Unix sender refused with EAGAIN gets no
    /// writable edge when the peer drains, so it must look again by itself.
    retry: RefCell<Option<crate::uv::Handle>>,
    on_retry: unsafe extern "C" fn(*mut c_void),
}

#[cfg(unix)]
impl UvPoll {
    fn start(
        env: sys::napi_env,
        reactor: Reactor,
        callbacks: &Callbacks,
    ) -> Result<UvPoll, SysError> {
        use crate::uv::Handle;
        let lp = crate::uv::event_loop(env)
            .ok_or_else(|| SysError::coded("ERR_DGRAMX_NATIVE_DRIVER", "napi_get_uv_event_loop"))?;
        // SAFETY: lp is this env's running loop and we are on its thread.
        let poll = unsafe { Handle::poll(lp, reactor.fd(), callbacks.on_ready) }
            .map_err(|rc| SysError::from_raw(-rc, "uv_poll_start"))?;
        // SAFETY: as above.
        let retry = match unsafe { Handle::timer(lp) } {
            Ok(t) => t,
            Err(rc) => {
                crate::driver::count_closing(1);
                poll.close();
                return Err(SysError::from_raw(-rc, "uv_timer_init"));
            }
        };
        Ok(UvPoll {
            reactor: RefCell::new(reactor),
            poll: RefCell::new(Some(poll)),
            retry: RefCell::new(Some(retry)),
            on_retry: callbacks.on_retry,
        })
    }
}

// ---- thread -----------------------------------------------------------------------------

pub struct ReactorThread {
    shared: Arc<Shared>,
    tsfn: Cell<Tsfn>,
    thread: RefCell<Option<JoinHandle<()>>>,
    refd: Cell<bool>,
}

/// A threadsafe function handle; Node-API allows calling it from any thread.
#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: napi_call_threadsafe_function is documented as callable from any thread; the handle
// is released only after the reactor thread has been joined.
unsafe impl Send for Tsfn {}

#[derive(Default)]
struct Shared {
    ready: Mutex<Vec<Ready>>,
    /// A call is on its way to the JS thread: later news rides along with it.
    notified: AtomicBool,
    stop: AtomicBool,
    retry_at: Mutex<Option<Instant>>,
    retry_due: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the data is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn notify(&self, tsfn: Tsfn) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            // SAFETY: tsfn is live until after the reactor thread is joined (see `stop`).
            unsafe {
                sys::napi_call_threadsafe_function(
                    tsfn.0,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
        }
    }
}

/// The batch callback to run on the JS thread, stored as the threadsafe function's context.
struct BatchContext {
    on_batch: fn(bool),
    shared: Arc<Shared>,
}

impl ReactorThread {
    fn start(
        env: sys::napi_env,
        reactor: Reactor,
        on_batch: fn(bool),
    ) -> Result<ReactorThread, SysError> {
        let shared = Arc::new(Shared::default());
        let context = Box::into_raw(Box::new(BatchContext {
            on_batch,
            shared: shared.clone(),
        }));
        let mut tsfn = ptr::null_mut();
        let name = crate::js::string(env, "dgramx:reactor");
        // SAFETY: env is live on this thread; the context is freed by `finalize_context`.
        let status = unsafe {
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                context as *mut c_void,
                Some(finalize_context),
                context as *mut c_void,
                Some(run_batch),
                &mut tsfn,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: creation failed, so nobody else owns the context.
            drop(unsafe { Box::from_raw(context) });
            return Err(SysError::coded(
                "ERR_DGRAMX_NATIVE_DRIVER",
                "napi_create_threadsafe_function",
            ));
        }
        // SAFETY: tsfn was just created on this env.
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
        let tsfn = Tsfn(tsfn);
        let thread_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("dgramx-reactor".into())
            .spawn(move || reactor_loop(reactor, thread_shared, tsfn));
        let thread = match spawned {
            Ok(t) => t,
            Err(e) => {
                // SAFETY: no other thread has the handle.
                unsafe {
                    sys::napi_release_threadsafe_function(
                        tsfn.0,
                        sys::ThreadsafeFunctionReleaseMode::abort,
                    )
                };
                return Err(SysError::from_io(&e, "pthread_create"));
            }
        };
        Ok(ReactorThread {
            shared,
            tsfn: Cell::new(tsfn),
            thread: RefCell::new(Some(thread)),
            refd: Cell::new(false),
        })
    }

    fn take_ready(&self, out: &mut Vec<Ready>) {
        // Cleared before taking, so news that arrives from now on brings a new call.
        self.shared.notified.store(false, Ordering::Release);
        out.append(&mut lock(&self.shared.ready));
    }

    fn set_ref(&self, env: sys::napi_env, on: bool) {
        if self.refd.replace(on) == on || self.thread.borrow().is_none() {
            return;
        }
        // SAFETY: the handle is live (the thread still runs) and we are on the env's thread.
        unsafe {
            if on {
                sys::napi_ref_threadsafe_function(env, self.tsfn.get().0);
            } else {
                sys::napi_unref_threadsafe_function(env, self.tsfn.get().0);
            }
        }
    }

    fn stop(&self, registrar: &Registrar) {
        let Some(thread) = self.thread.borrow_mut().take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::Release);
        let _ = registrar.kick();
        // The thread only waits in poll, which the kick ends: the join is prompt.
        let _ = thread.join();
        // SAFETY: the reactor thread is gone, so this is the last use of the handle.
        unsafe {
            sys::napi_release_threadsafe_function(
                self.tsfn.get().0,
                sys::ThreadsafeFunctionReleaseMode::abort,
            )
        };
    }
}

/// The reactor thread: wait, hand over what is ready, repeat until told to stop.
fn reactor_loop(mut reactor: Reactor, shared: Arc<Shared>, tsfn: Tsfn) {
    let mut ready = Vec::new();
    while !shared.stop.load(Ordering::Acquire) {
        let timeout = lock(&shared.retry_at).map(|at| at.saturating_duration_since(Instant::now()));
        if reactor.wait_ready(&mut ready, timeout).is_err() {
            // epoll_wait/kevent/GetQueuedCompletionStatusEx failing is not expected to last;
            // don't spin on it.
            std::thread::sleep(Duration::from_millis(10));
        }
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let mut news = !ready.is_empty();
        if news {
            lock(&shared.ready).append(&mut ready);
        }
        {
            let mut at = lock(&shared.retry_at);
            if matches!(*at, Some(t) if Instant::now() >= t) {
                *at = None;
                shared.retry_due.store(true, Ordering::Release);
                news = true;
            }
        }
        if news {
            shared.notify(tsfn);
        }
    }
}

unsafe extern "C" fn run_batch(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    // A null env means the function is being torn down: nothing to deliver to.
    if env.is_null() || context.is_null() {
        return;
    }
    let context = &*(context as *const BatchContext);
    // Cleared before anything is read: news the reactor thread posts from now on brings a new
    // call. Cleared only after reading `retry_due` (as `take_ready` alone did), a retry that fell
    // due in between found `notified` still set, posted nothing, and a stalled sender waited
    // for an event that never came. The swap also makes what was posted before it visible.
    context.shared.notified.swap(false, Ordering::AcqRel);
    let retry_due = context.shared.retry_due.swap(false, Ordering::AcqRel);
    let on_batch = context.on_batch;
    // A panic must never unwind into Node.
    let _ = std::panic::catch_unwind(|| on_batch(retry_due));
}

unsafe extern "C" fn finalize_context(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        drop(Box::from_raw(data as *mut BatchContext));
    }
}
