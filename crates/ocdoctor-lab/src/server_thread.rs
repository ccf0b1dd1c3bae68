//! The background thread a lab serves from, and the flag that asks it to stop: shared by the
//! remote_bitbang/vdebug server and the Bus Pirate terminal.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

#[derive(Debug)]
pub(crate) struct ServerThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Run `serve` on a thread named `name`; it returns once the flag it is given is set.
    pub(crate) fn spawn(
        name: String,
        serve: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> io::Result<ServerThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name(name)
                .spawn(move || serve(&stop))?
        };
        Ok(ServerThread {
            stop,
            thread: Some(thread),
        })
    }

    /// No thread (a lab that serves nothing); stopping it does nothing.
    pub(crate) fn none() -> ServerThread {
        ServerThread {
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        }
    }

    /// Set the flag, `wake` the thread out of the call it blocks in (it then sees the flag),
    /// and wait for it to end. Once only: later calls do nothing.
    pub(crate) fn stop(&mut self, wake: impl FnOnce()) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::SeqCst);
        wake();
        let _ = thread.join();
    }
}
