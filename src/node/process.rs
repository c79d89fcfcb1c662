//! A process's memory and CPU as Linux reports them in `/proc`: the node shows its own
//! resident memory, and the benchmarks watch node processes. `None` where there is no `/proc`.

/// A memory field of `/proc/PID/status` (`VmRSS`, `VmHWM`, ...) in MiB, rounded to 0.1;
/// `pid` `None` is this process.
pub fn memory_mib(pid: Option<u32>, field: &str) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// User plus system CPU time of process `pid` so far, in clock ticks (`USER_HZ`, 100 on Linux).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let rss = memory_mib(None, "VmRSS").expect("rss");
        assert!(rss > 0.0);
        assert!(memory_mib(Some(std::process::id()), "VmHWM").expect("peak") >= rss - 0.1);
        assert!(cpu_ticks(std::process::id()).is_some());
        assert_eq!(memory_mib(None, "NoSuchField"), None);
    }
}
