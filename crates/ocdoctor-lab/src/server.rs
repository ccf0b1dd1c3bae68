//! The TCP side: one listening socket on 127.0.0.1, one client at a time,
//! served by a single background thread that owns the simulated hardware.
//! The hardware persists across connections, like a real board does when
//! OpenOCD is restarted.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::chain::{Chain, Feed};
use crate::server_thread::ServerThread;
use crate::{FaultId, LabConfig};

/// The protocol a [`Lab`] speaks on its TCP port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LabAdapter {
    /// OpenOCD's `remote_bitbang` driver (stock Debian build): JTAG, no clock control.
    #[default]
    RemoteBitbang,
    /// OpenOCD's `vdebug` driver (an OpenOCD built with `--enable-vdebug`): JTAG, and
    /// `adapter speed` reaches the board as a clock divider.
    Vdebug,
}

impl LabAdapter {
    /// OpenOCD's interface cfg for a lab of this protocol on 127.0.0.1:`port`.
    pub fn interface_cfg(self, port: u16) -> String {
        match self {
            LabAdapter::RemoteBitbang => crate::interface_cfg(port),
            LabAdapter::Vdebug => crate::vdebug_interface_cfg(port),
        }
    }
}

/// A running lab: a remote_bitbang (or vdebug) server for one simulated board.
///
/// Dropping it stops the server thread and closes the sockets.
#[derive(Debug)]
pub struct Lab {
    port: u16,
    /// The connection being served, so that shutdown can cut it.
    active: Arc<Mutex<Option<TcpStream>>>,
    server: ServerThread,
}

impl Lab {
    /// Start serving `config` on 127.0.0.1:`port` (an ephemeral port when
    /// `None`).
    ///
    /// With the `no-server` fault nothing listens: the port was bound and
    /// released again, so connecting to it is refused.
    pub fn start(config: LabConfig, port: Option<u16>) -> io::Result<Lab> {
        Lab::start_on(config, port, LabAdapter::RemoteBitbang)
    }

    /// [`Lab::start`] for the given adapter protocol.
    pub fn start_on(config: LabConfig, port: Option<u16>, adapter: LabAdapter) -> io::Result<Lab> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(0)));
        let listener = TcpListener::bind(addr)?;
        let port = listener.local_addr()?.port();
        let active = Arc::new(Mutex::new(None));
        if config.fault == Some(FaultId::NoServer) {
            drop(listener);
            return Ok(Lab {
                port,
                active,
                server: ServerThread::none(),
            });
        }
        let chain = config.build_chain();
        let drop_after =
            (config.fault == Some(FaultId::DropMidSession)).then_some(config.drop_after);
        let server = {
            let active = Arc::clone(&active);
            ServerThread::spawn(format!("ocdoctor-lab:{port}"), move |stop| {
                serve(listener, chain, adapter, drop_after, stop, &active)
            })?
        };
        Ok(Lab {
            port,
            active,
            server,
        })
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stop serving: cut the current connection, close the listener and
    /// wait for the server thread.
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let (active, port) = (&self.active, self.port);
        self.server.stop(|| {
            if let Some(conn) = lock(active).take() {
                let _ = conn.shutdown(Shutdown::Both);
            }
            // Wake a blocking accept(); the thread sees `stop` and exits.
            let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, port));
        });
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the Option is still valid.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn serve(
    listener: TcpListener,
    mut chain: Chain,
    adapter: LabAdapter,
    drop_after: Option<u64>,
    stop: &AtomicBool,
    active: &Mutex<Option<TcpStream>>,
) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(conn) = conn else { continue };
        // Register the connection before checking `stop` again, so that a
        // shutdown racing with accept() either sees it or is seen.
        match conn.try_clone() {
            Ok(c) => *lock(active) = Some(c),
            Err(_) => continue,
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match adapter {
            LabAdapter::RemoteBitbang => session(conn, &mut chain, drop_after),
            LabAdapter::Vdebug => {
                crate::vdebug::session(conn, &mut chain, drop_after.unwrap_or(u64::MAX));
            }
        }
        lock(active).take();
    }
}

/// Serve one client until it quits or disconnects (or the fault cuts it).
fn session(mut conn: TcpStream, chain: &mut Chain, drop_after: Option<u64>) {
    // Replies are tiny and awaited by the client: do not let Nagle delay them.
    let _ = conn.set_nodelay(true);
    chain.reconnect();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(4096);
    let mut budget = drop_after.unwrap_or(u64::MAX);
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let take = n.min(usize::try_from(budget).unwrap_or(usize::MAX));
        budget -= take as u64;
        let feed = chain.feed(&buf[..take], &mut out);
        if !out.is_empty() {
            if conn.write_all(&out).is_err() {
                break;
            }
            out.clear();
        }
        if feed == Feed::Quit || budget == 0 {
            break;
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}
