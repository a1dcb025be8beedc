//! Hosts on a private network: one Linux network namespace per host, each
//! joined by a veth pair to a bridge in the root namespace, addresses in a
//! private `10.213.N.0/24` of this run's own. Partitions are cut with the
//! `ip` tool only (a link down, a blackhole route), so nothing beyond
//! iproute2 is needed, nor any kernel module beyond veth and bridge.
//!
//! Every name carries a tag unique to this run, so parallel runs do not
//! collide, and [`Network`] deletes every namespace, link and address it
//! made when dropped, also when a test fails half way. Creating namespaces
//! needs root (CI runs as root); without it [`Network::create`] fails with
//! an error that says so.
//!
//! Processes in the root namespace that hosts must reach (anvil listens on
//! 127.0.0.1) are reached through a [`Forwarder`] on a bridge address.

use std::{
    fs::File,
    net::{Ipv4Addr, SocketAddr},
    path::Path,
    process::{Child, Command, Stdio},
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::BoxError;

/// First /24 tried inside `10.213.0.0/16`; a run takes the first free one.
const FIRST_SUBNET: u8 = 20;
/// Host addresses start at `.10` (`.1` and `.2` are the bridge's).
const FIRST_HOST: u8 = 10;

/// Runs `ip args...`, failing with its stderr.
fn ip(args: &[&str]) -> Result<(), BoxError> {
    let output = Command::new("ip").args(args).output().map_err(|e| {
        format!("cannot run `ip` (iproute2): {e}; the network-namespace tests need it")
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into())
    }
}

/// The bridge, the namespaces and their links of one run; all removed on
/// drop.
#[derive(Debug)]
pub struct Network {
    tag: String,
    subnet: u8,
    hosts: Vec<String>,
    /// Set once each piece exists, so that drop removes exactly those.
    bridge_made: bool,
    namespaces_made: Vec<String>,
}

impl Network {
    /// Creates one namespace per name in `hosts`, each with a veth to a new
    /// bridge that holds `.1` and `.2` of a free `10.213.N.0/24`.
    pub fn create(hosts: &[&str]) -> Result<Self, BoxError> {
        let seed = (std::process::id() ^ rand_u32()) & 0xffff;
        let mut network = Self {
            tag: format!("{seed:04x}"),
            subnet: free_subnet(seed)?,
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            bridge_made: false,
            namespaces_made: Vec::new(),
        };
        network.build().map_err(|e| {
            format!(
                "cannot build the test network ({e}); network namespaces need root \
                 (CAP_NET_ADMIN) and iproute2: run this test as root, as CI does"
            )
        })?;
        Ok(network)
    }

    fn build(&mut self) -> Result<(), BoxError> {
        let bridge = self.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        self.bridge_made = true;
        ip(&["addr", "add", &format!("{}/24", self.bridge_ip()), "dev", &bridge])?;
        ip(&["addr", "add", &format!("{}/24", self.second_bridge_ip()), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for index in 0..self.hosts.len() {
            let namespace = self.namespace(index);
            ip(&["netns", "add", &namespace])?;
            self.namespaces_made.push(namespace.clone());
            let veth = self.veth(index);
            ip(&[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &namespace,
            ])?;
            ip(&["link", "set", &veth, "master", &bridge, "up"])?;
            let address = format!("{}/24", self.host_ip(index));
            ip(&["-n", &namespace, "addr", "add", &address, "dev", "eth0"])?;
            ip(&["-n", &namespace, "link", "set", "eth0", "up"])?;
            ip(&["-n", &namespace, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    fn bridge(&self) -> String {
        format!("chb{}", self.tag)
    }

    fn veth(&self, index: usize) -> String {
        format!("chv{}h{index}", self.tag)
    }

    fn index(&self, host: &str) -> Result<usize, BoxError> {
        self.hosts.iter().position(|h| h == host).ok_or_else(|| format!("no host {host}").into())
    }

    /// The namespace of host `index` (`chorus-<tag>-<host>`).
    fn namespace(&self, index: usize) -> String {
        format!("chorus-{}-{}", self.tag, self.hosts[index])
    }

    /// The namespace of `host`.
    pub fn namespace_of(&self, host: &str) -> Result<String, BoxError> {
        Ok(self.namespace(self.index(host)?))
    }

    /// The bridge's first address (`.1`), in the root namespace.
    pub fn bridge_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 1)
    }

    /// The bridge's second address (`.2`): a second way into the root
    /// namespace, which a host can lose alone (see [`Network::blackhole`]).
    pub fn second_bridge_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 2)
    }

    /// The address of host `index` (in the order given to [`Network::create`]).
    pub fn host_ip(&self, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, FIRST_HOST + index as u8)
    }

    /// The address of `host`.
    pub fn ip_of(&self, host: &str) -> Result<Ipv4Addr, BoxError> {
        Ok(self.host_ip(self.index(host)?))
    }

    /// Takes `host`'s link to the bridge down: it is off the network
    /// (packets to and from it are dropped, connections hang).
    pub fn unplug(&self, host: &str) -> Result<(), BoxError> {
        ip(&["link", "set", &self.veth(self.index(host)?), "down"])
    }

    /// Brings `host`'s link back up.
    pub fn plug(&self, host: &str) -> Result<(), BoxError> {
        ip(&["link", "set", &self.veth(self.index(host)?), "up"])
    }

    /// Inside `host`, routes `to` into a blackhole: `host` can no longer
    /// reach that one address; everything else still works.
    pub fn blackhole(&self, host: &str, to: Ipv4Addr) -> Result<(), BoxError> {
        let namespace = self.namespace_of(host)?;
        ip(&["-n", &namespace, "route", "add", "blackhole", &format!("{to}/32")])
    }

    /// Removes the blackhole [`Network::blackhole`] made.
    pub fn unblackhole(&self, host: &str, to: Ipv4Addr) -> Result<(), BoxError> {
        let namespace = self.namespace_of(host)?;
        ip(&["-n", &namespace, "route", "del", "blackhole", &format!("{to}/32")])
    }

    /// Runs `exe args...` inside `host`'s namespace, its output appended to
    /// `log`; `CHORUS_*` variables of this process are not passed on (the
    /// configuration files are complete).
    pub fn spawn(
        &self,
        host: &str,
        exe: &Path,
        args: &[&str],
        log: &Path,
    ) -> Result<HostProcess, BoxError> {
        let namespace = self.namespace_of(host)?;
        let file = File::options().create(true).append(true).open(log)?;
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &namespace]).arg(exe).args(args);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CHORUS_") {
                command.env_remove(name);
            }
        }
        // `ip netns exec` execs the program: the child's pid is the node's.
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .map_err(|e| format!("cannot run `ip netns exec {namespace}`: {e}"))?;
        Ok(HostProcess { child: Some(child) })
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        // Deleting a namespace destroys its end of each veth, and with it
        // the pair; the bridge goes last. Errors are reported, not fatal:
        // drop runs during a failing test's unwinding too.
        for namespace in self.namespaces_made.drain(..) {
            if let Err(error) = ip(&["netns", "del", &namespace]) {
                eprintln!("cleanup: {error}");
            }
        }
        for index in 0..self.hosts.len() {
            // Usually gone with its namespace already.
            let _ = ip(&["link", "del", &self.veth(index)]);
        }
        if self.bridge_made
            && let Err(error) = ip(&["link", "del", &self.bridge()])
        {
            eprintln!("cleanup: {error}");
        }
    }
}

/// A process in a host's namespace; SIGKILLed and reaped on drop.
#[derive(Debug)]
pub struct HostProcess {
    child: Option<Child>,
}

impl HostProcess {
    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Fails if it exited.
    pub fn check_running(&mut self) -> Result<(), BoxError> {
        match self.child.as_mut().map(Child::try_wait).transpose()? {
            Some(Some(status)) => Err(format!("the process exited: {status}").into()),
            _ => Ok(()),
        }
    }

    /// SIGKILLs it and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP forwarder from a listening address to a target, in this process.
#[derive(Debug)]
pub struct Forwarder {
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Listens on `listen` and copies every connection both ways to `target`.
    pub async fn start(listen: SocketAddr, target: SocketAddr) -> Result<Self, BoxError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen} to forward to {target}: {e}"))?;
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Self { task })
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `10.213.N.0/24` no local address uses, N from [`FIRST_SUBNET`] to
/// 250, the search starting at a place `seed` picks (so that two runs
/// starting at once rarely try the same one first).
fn free_subnet(seed: u32) -> Result<u8, BoxError> {
    let output = Command::new("ip").args(["-4", "-o", "addr", "show"]).output()?;
    let addresses = String::from_utf8_lossy(&output.stdout);
    let span = u32::from(250 - FIRST_SUBNET) + 1;
    (0..span)
        .map(|step| FIRST_SUBNET + ((seed + step) % span) as u8)
        .find(|n| !addresses.contains(&format!(" 10.213.{n}.")))
        .ok_or_else(|| "every 10.213.N.0/24 is in use".into())
}

/// A little randomness for the run's tag, without another dependency.
fn rand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos())
}
