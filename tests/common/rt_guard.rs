//! Proof that code makes no syscall: a seccomp filter on the calling thread only.
//!
//! [`forbid_syscalls`] installs a filter that lets exactly two syscalls through: `write` to
//! [`REPORT_FD`] (a descriptor nothing but this module knows) and `exit_group`. Any other
//! syscall from this thread (futex for a contended lock or a wake-up, write for logging,
//! mmap/brk for an allocation that reaches the OS, nanosleep, ...) raises SIGSYS; the handler
//! reports the syscall number on [`REPORT_FD`] and ends the process with [`SYSCALL_EXIT_CODE`].
//! Other threads (the plugin's worker, the test's main thread) are unaffected.
//!
//! The filter cannot be removed, so it is used in a child process: see [`run_child`].

#![allow(dead_code)]

use std::process::{Command, Output};

/// The descriptor the handler reports on. `dup2`'d from stderr before the filter goes in.
pub const REPORT_FD: i32 = 987;
pub const SYSCALL_EXIT_CODE: i32 = 86;
/// Environment variable that turns a test into the child side of [`run_child`].
pub const CHILD_ENV: &str = "LINER_NOTES_RT_CHILD";

/// Whether this process is the child side of [`run_child`] for `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// Runs the test `test` of the current test binary in a child process (with [`CHILD_ENV`] set)
/// and returns its output.
pub fn run_child(test: &str) -> Output {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test)
        .output()
        .expect("running the child test process")
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod imp {
    use super::*;

    extern "C" fn on_sigsys(
        _sig: libc::c_int,
        info: *mut libc::siginfo_t,
        _ctx: *mut libc::c_void,
    ) {
        // siginfo for SIGSYS on x86_64: the syscall number is the int at byte offset 24.
        // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers.
        let nr = unsafe { *(info as *const u8).add(24).cast::<i32>() };
        const PREFIX: &[u8] = b"FORBIDDEN SYSCALL ";
        let mut buf = [0u8; 40];
        buf[..PREFIX.len()].copy_from_slice(PREFIX);
        let mut digits = [0u8; 10];
        let mut n = nr.unsigned_abs();
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for k in 0..len {
            buf[PREFIX.len() + k] = digits[len - 1 - k];
        }
        buf[PREFIX.len() + len] = b'\n';
        let total = PREFIX.len() + len + 1;
        // SAFETY: raw syscalls allowed by the filter; no allocation, no locks.
        unsafe {
            libc::syscall(libc::SYS_write, REPORT_FD, buf.as_ptr(), total);
            libc::syscall(libc::SYS_exit_group, SYSCALL_EXIT_CODE);
        }
    }

    /// Installs the filter on the calling thread. Everything this thread does afterwards must
    /// be syscall-free, or the process ends with [`SYSCALL_EXIT_CODE`].
    pub fn forbid_syscalls() {
        // SAFETY: plain libc calls with valid arguments; the BPF program outlives the call
        // (the kernel copies it).
        unsafe {
            assert_eq!(libc::dup2(2, REPORT_FD), REPORT_FD);
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigsys as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            assert_eq!(libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut()), 0);
            // Make sure SIGSYS is not blocked on this thread.
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGSYS);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());

            const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
            let ld = |k: u32| libc::sock_filter {
                code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
                jt: 0,
                jf: 0,
                k,
            };
            let jeq = |k: u32, jt: u8, jf: u8| libc::sock_filter {
                code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                jt,
                jf,
                k,
            };
            let ret = |k: u32| libc::sock_filter {
                code: (libc::BPF_RET | libc::BPF_K) as u16,
                jt: 0,
                jf: 0,
                k,
            };
            let filter = [
                /* 0 */ ld(4), // arch
                /* 1 */ jeq(AUDIT_ARCH_X86_64, 1, 0),
                /* 2 */ ret(libc::SECCOMP_RET_KILL_PROCESS),
                /* 3 */ ld(0), // syscall number
                /* 4 */ jeq(libc::SYS_exit_group as u32, 4, 0),
                /* 5 */ jeq(libc::SYS_write as u32, 0, 2),
                /* 6 */ ld(16), // low half of args[0]
                /* 7 */ jeq(REPORT_FD as u32, 1, 0),
                /* 8 */ ret(libc::SECCOMP_RET_TRAP),
                /* 9 */ ret(libc::SECCOMP_RET_ALLOW),
            ];
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut _,
            };
            assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
            let rc = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            );
            assert_eq!(rc, 0, "installing the seccomp filter failed");
        }
    }

    /// Reports a line on [`REPORT_FD`] from a filtered thread (allowed by the filter).
    pub fn report(line: &[u8]) {
        // SAFETY: raw write of a valid buffer.
        unsafe {
            libc::syscall(libc::SYS_write, REPORT_FD, line.as_ptr(), line.len());
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[allow(unused_imports)]
pub use imp::{forbid_syscalls, report};
