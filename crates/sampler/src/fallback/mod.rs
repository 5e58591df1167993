//! The backend for OSes that are neither Linux nor macOS, on the `sysinfo` crate.
//!
//! sysinfo gives RSS, virtual size, parent, start time (whole seconds), name and command line
//! per process, and total, free, available and swap for the system. Everything else is `None`.
//! sysinfo reports a process it cannot read as absent, so here a process that cannot be read
//! looks the same as one that exited.

use crate::error::{Error, Result};
use crate::sampler::{Backend, Identity};
use crate::types::{HostInfo, ProcessId, ProcessSample, SystemSample};
use std::time::Duration;
use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

pub(crate) struct Fallback {
    host: HostInfo,
    sys: System,
}

impl Fallback {
    pub(crate) fn new() -> Result<Fallback> {
        let mut sys = System::new();
        sys.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        if sys.total_memory() == 0 {
            return Err(Error::Unsupported {
                what: "reading memory through sysinfo",
            });
        }
        Ok(Fallback {
            host: HostInfo {
                os: std::env::consts::OS,
                os_version: System::os_version(),
                arch: std::env::consts::ARCH,
                total_memory_bytes: sys.total_memory(),
                // sysinfo does not report the page size.
                page_size_bytes: None,
                gpu_wired_limit_bytes: None,
            },
            sys,
        })
    }

    fn refresh(&mut self, pid: u32, kind: ProcessRefreshKind) -> Result<&sysinfo::Process> {
        let p = Pid::from_u32(pid);
        self.sys
            .refresh_processes_specifics(ProcessesToUpdate::Some(&[p]), true, kind);
        self.sys.process(p).ok_or(Error::ProcessGone { pid })
    }
}

impl Backend for Fallback {
    type Handle = ();

    fn host(&self) -> &HostInfo {
        &self.host
    }

    fn list_pids(&mut self, out: &mut Vec<u32>) -> Result<()> {
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing(),
        );
        out.clear();
        out.extend(self.sys.processes().keys().map(|p| p.as_u32()));
        Ok(())
    }

    fn name_hash(&mut self, pid: u32) -> Result<u64> {
        let ident = self.identify(pid)?;
        Ok(crate::sampler::name_hash(ident.name.bytes()))
    }

    fn identify(&mut self, pid: u32) -> Result<Identity> {
        let p = self.refresh(pid, ProcessRefreshKind::nothing())?;
        Ok(Identity {
            start_time_us: p.start_time().saturating_mul(1_000_000),
            ppid: p.parent().map_or(0, |p| p.as_u32()),
            // sysinfo gives no process group.
            pgid: 0,
            name: p.name().to_string_lossy().into_owned(),
        })
    }

    fn command_line(&mut self, pid: u32) -> Result<(Option<String>, Vec<String>)> {
        let kind = ProcessRefreshKind::nothing()
            .with_cmd(UpdateKind::Always)
            .with_exe(UpdateKind::Always);
        let p = self.refresh(pid, kind)?;
        let argv = p
            .cmd()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let exe = p.exe().map(|e| e.to_string_lossy().into_owned());
        Ok((exe, argv))
    }

    fn open(&mut self, id: ProcessId) -> Result<()> {
        if self.identify(id.pid)?.start_time_us != id.start_time_us {
            return Err(Error::ProcessGone { pid: id.pid });
        }
        Ok(())
    }

    fn read(&mut self, _handle: &mut (), out: &mut ProcessSample) -> Result<()> {
        let id = out.id;
        let p = self.refresh(id.pid, ProcessRefreshKind::nothing().with_memory())?;
        if p.start_time().saturating_mul(1_000_000) != id.start_time_us {
            return Err(Error::ProcessGone { pid: id.pid });
        }
        out.ppid = p.parent().map_or(out.ppid, |p| p.as_u32());
        out.rss_bytes = p.memory();
        out.virtual_bytes = Some(p.virtual_memory());
        Ok(())
    }

    fn start_time_now(&mut self) -> u64 {
        // sysinfo gives start times in whole seconds since the epoch.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs().saturating_mul(1_000_000))
    }

    fn cpu_time(&mut self, pid: u32) -> Result<Duration> {
        let p = self.refresh(pid, ProcessRefreshKind::nothing().with_cpu())?;
        Ok(Duration::from_millis(p.accumulated_cpu_time()))
    }

    fn watch_weights(&mut self, _handle: &mut Self::Handle, _file: &std::path::Path) -> Result<()> {
        Err(Error::Unsupported {
            what: "counting a process's resident model weights",
        })
    }

    fn system(&mut self, out: &mut SystemSample) -> Result<()> {
        self.sys.refresh_memory();
        let s = &self.sys;
        *out = SystemSample {
            total_bytes: s.total_memory(),
            free_bytes: Some(s.free_memory()),
            available_bytes: Some(s.available_memory()),
            swap_total_bytes: Some(s.total_swap()),
            swap_used_bytes: Some(s.used_swap()),
            free_percent: (s.total_memory() > 0)
                .then(|| s.available_memory() as f64 * 100.0 / s.total_memory() as f64),
            stats_age: Duration::ZERO,
            ..SystemSample::default()
        };
        Ok(())
    }
}

/// No floor to measure here: sysinfo is itself the reading.
pub(crate) struct Floor;

impl Floor {
    pub(crate) fn new(_pids: &[u32]) -> Result<Floor> {
        Err(Error::Unsupported {
            what: "the floor benchmark (Linux and macOS only)",
        })
    }

    pub(crate) fn cheapest(pids: &[u32]) -> Result<Floor> {
        Floor::new(pids)
    }

    pub(crate) fn read(&mut self) -> Result<u64> {
        Err(Error::Unsupported {
            what: "the floor benchmark (Linux and macOS only)",
        })
    }
}

/// No pressure signal is read here.
pub(crate) fn pressure_watch(
    _trigger: crate::pressure::Trigger,
) -> Result<crate::pressure::PressureWatch> {
    Err(Error::Unsupported {
        what: "listening for the kernel's pressure notifications",
    })
}

/// No `getrusage` is read here.
pub(crate) fn rusage(who: crate::types::Who) -> Result<crate::types::Raw> {
    Err(Error::Unsupported {
        what: match who {
            crate::types::Who::Itself => "this process's CPU time",
            crate::types::Who::Children => "the CPU time of child processes",
        },
    })
}

/// No resident set is read here.
pub(crate) fn own_rss() -> Result<u64> {
    Err(Error::Unsupported {
        what: "this process's resident set",
    })
}
