//! `chorus` child processes (operators and aggregator in process mode):
//! started with their output in a log file, stopped with SIGTERM and a
//! deadline, killed with SIGKILL, and always reaped.

use std::{
    fs::OpenOptions,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use rustix::process::{Pid, Signal, kill_process};

use crate::DevnetError;

/// How often a stopping child is checked for exit.
const EXIT_POLL: Duration = Duration::from_millis(25);

/// A running `chorus` child, killed and reaped on drop.
#[derive(Debug)]
pub(crate) struct ChildProcess {
    name: String,
    log: PathBuf,
    child: Option<Child>,
}

impl ChildProcess {
    /// Runs `exe args...`, appending stdout and stderr to `log`.
    pub(crate) fn spawn(
        name: &str,
        exe: &Path,
        args: &[&str],
        log: &Path,
    ) -> Result<Self, DevnetError> {
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|source| DevnetError::io("open", log, source))
        };
        // The devnet's configuration files are complete: CHORUS_* overrides
        // meant for this shell would make the nodes differ from devnet.json.
        let overrides = std::env::vars_os()
            .map(|(name, _)| name)
            .filter(|name| name.to_string_lossy().starts_with("CHORUS_"));
        let mut command = Command::new(exe);
        for name in overrides {
            command.env_remove(name);
        }
        let child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(open()?)
            .stderr(open()?)
            .spawn()
            .map_err(|source| DevnetError::Spawn { exe: exe.to_path_buf(), source })?;
        tracing::debug!(name, pid = child.id(), log = %log.display(), "started");
        Ok(Self { name: name.to_owned(), log: log.to_path_buf(), child: Some(child) })
    }

    /// The process id, while it has not been reaped.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Fails if the child has exited already (it should be serving).
    pub(crate) fn check_running(&mut self) -> Result<(), DevnetError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        match child.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Err(DevnetError::ChildExited {
                    name: self.name.clone(),
                    status,
                    log: self.log.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Asks the child to stop (SIGTERM) and waits up to `grace` for it;
    /// kills it (SIGKILL) if it has not stopped by then.
    pub(crate) async fn terminate(mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Err(error) = kill_process(pid_of(&child)?, Signal::TERM) {
            tracing::debug!(name = self.name, %error, "SIGTERM not delivered");
        }
        let deadline = Instant::now() + grace;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(EXIT_POLL).await,
                _ => break,
            }
        }
        tracing::warn!(name = self.name, ?grace, "did not stop on SIGTERM: killing it");
        kill_and_reap(&mut child)
    }

    /// Kills the child at once (SIGKILL) and reaps it.
    pub(crate) fn kill(mut self) -> Option<ExitStatus> {
        self.child.take().and_then(|mut child| kill_and_reap(&mut child))
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
    }
}

fn pid_of(child: &Child) -> Option<Pid> {
    Pid::from_raw(i32::try_from(child.id()).ok()?)
}

fn kill_and_reap(child: &mut Child) -> Option<ExitStatus> {
    // std's kill is SIGKILL, and a no-op on a child already reaped.
    if let Err(error) = child.kill() {
        tracing::debug!(%error, "child already gone");
    }
    child.wait().ok()
}

/// Whether process `pid` exists (for the folder's lock). A process we may
/// not signal (EPERM) exists too.
pub(crate) fn is_alive(pid: i32) -> bool {
    Pid::from_raw(pid).is_some_and(|pid| match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(error) => error == rustix::io::Errno::PERM,
    })
}
