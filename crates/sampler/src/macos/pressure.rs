//! macOS's pressure signal: the kernel's level, `kern.memorystatus_vm_pressure_level`, polled
//! (see [`crate::pressure`] for why not libdispatch's memory-pressure source).

use super::ffi::Mib;
use super::os_error;
use crate::darwin;
use crate::error::Result;
use crate::pressure::{PressureWatch, Trigger, LEVEL_POLL_PERIOD};

/// The level poller over `kern.memorystatus_vm_pressure_level` (`bsd/kern/
/// kern_memorystatus_notify.c`: readable by any user on macOS, a dispatch level 1, 2 or 4).
/// macOS has no threshold to set: `trigger` is for Linux.
pub(crate) fn pressure_watch(_trigger: Trigger) -> Result<PressureWatch> {
    const CALL: &str = "sysctl kern.memorystatus_vm_pressure_level";
    let mib =
        Mib::resolve(c"kern.memorystatus_vm_pressure_level").map_err(|e| os_error(CALL, &e))?;
    let read = move || {
        mib.read_int()
            .map_err(|e| os_error(CALL, &e))
            .and_then(darwin::decode_pressure_level)
    };
    PressureWatch::polling(read, LEVEL_POLL_PERIOD)
}
