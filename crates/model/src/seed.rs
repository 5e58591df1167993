//! Parsers for the two files the shell loops of the Ollama macOS Memory Trace Guide write,
//! which people recorded before memtide existed:
//!
//! - the process trace: a TSV with the header `ts pid ppid comm rss_kb vsz_kb command`, one row
//!   per matching process per second (`ps -axo pid=,ppid=,comm=,rss=,vsz=,command=`);
//! - the system log: blocks opened by `===== <UTC time> =====`, each holding the output of
//!   `vm_stat`, `memory_pressure`, `sysctl vm.swapusage`, `ollama ps` and `curl /api/ps | jq .`.
//!
//! Real outputs vary from Mac to Mac and from version to version: every section is found by its own
//! first line, parsed by label, and may be missing or empty. A malformed row or block is skipped
//! with a warning that names its line; nothing here panics. The `vm_stat` text of a block is
//! returned as is, for the sampler's decoder (`memtide_sampler::darwin`), which the importer calls.

use crate::ollama::{PsResponse, RunningModel};

/// A warning about input that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number in the file.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

/// One row of the process TSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsRow {
    /// The row's time.
    pub time: jiff::Timestamp,
    /// PID.
    pub pid: u32,
    /// Parent PID.
    pub ppid: u32,
    /// `comm` as `ps` printed it (macOS prints the executable's path).
    pub comm: String,
    /// RSS in bytes (`rss_kb` × 1024).
    pub rss_bytes: u64,
    /// Virtual size in bytes (`vsz_kb` × 1024).
    pub vsz_bytes: u64,
    /// The command line as `ps` joined it.
    pub command: String,
}

fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.trim().parse().ok()
}

/// The largest PID any kernel hands out: Linux's `PID_MAX_LIMIT` (4 194 304 on 64-bit
/// systems); macOS stops at 99 999.
pub const MAX_PID: u64 = 4_194_304;

/// The largest resident size a row may claim: 64 TiB, more memory than any machine `ps` runs
/// on holds. (Import also checks rows against the machine's own RAM when the log states it.)
pub const MAX_RSS_BYTES: u64 = 64 << 40;

/// The largest virtual size a row may claim: the 57-bit address space of the largest
/// page tables (Linux 5-level paging); arm64 macOS processes show a few hundred GiB.
pub const MAX_VSZ_BYTES: u64 = 1 << 57;

impl PsRow {
    /// The row, borrowed, as [`parse_ps_line`] gives it.
    pub fn as_line(&self) -> PsLine<'_> {
        PsLine {
            time: self.time,
            pid: self.pid,
            ppid: self.ppid,
            comm: &self.comm,
            rss_bytes: self.rss_bytes,
            vsz_bytes: self.vsz_bytes,
            command: &self.command,
        }
    }
}

/// One row of the process TSV, borrowed from its line (see [`parse_ps_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PsLine<'a> {
    /// The row's time.
    pub time: jiff::Timestamp,
    /// PID.
    pub pid: u32,
    /// Parent PID.
    pub ppid: u32,
    /// `comm` as `ps` printed it.
    pub comm: &'a str,
    /// RSS in bytes.
    pub rss_bytes: u64,
    /// Virtual size in bytes.
    pub vsz_bytes: u64,
    /// The command line as `ps` joined it.
    pub command: &'a str,
}

impl PsLine<'_> {
    /// The row, owned.
    pub fn to_row(&self) -> PsRow {
        PsRow {
            time: self.time,
            pid: self.pid,
            ppid: self.ppid,
            comm: self.comm.to_owned(),
            rss_bytes: self.rss_bytes,
            vsz_bytes: self.vsz_bytes,
            command: self.command.to_owned(),
        }
    }
}

/// Parses one line of the process TSV: `None` for a blank line or the header, else the row
/// or why it cannot be read. `last_time` keeps the last time read and its text, so that the
/// rows of one sample, which share their time, parse it once.
pub fn parse_ps_line<'a>(
    line: &'a str,
    last_time: &mut Option<(String, jiff::Timestamp)>,
) -> Option<Result<PsLine<'a>, String>> {
    if line.trim().is_empty() || line.starts_with("ts\t") {
        return None;
    }
    let mut f = line.splitn(7, '\t');
    let mut fields: [&str; 7] = [""; 7];
    let mut n = 0;
    for (slot, v) in fields.iter_mut().zip(&mut f) {
        *slot = v;
        n += 1;
    }
    let parsed = (|| {
        if n < 6 {
            return Err(format!("{n} tab-separated fields, expected 7"));
        }
        let time = match last_time {
            Some((text, t)) if text == fields[0] => *t,
            _ => {
                let t = parse_time(fields[0])
                    .ok_or_else(|| format!("`{}` is not a UTC time", fields[0]))?;
                *last_time = Some((fields[0].to_owned(), t));
                t
            }
        };
        let num = |k: &str, v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{k} `{v}` is not a number"))
        };
        let within = |k: &str, v: u64, max: u64| {
            if v > max {
                Err(format!("{k} {v} is more than any machine has ({max})"))
            } else {
                Ok(v)
            }
        };
        let kib = |k: &str, v: &str, max: u64| {
            let n = num(k, v)?;
            n.checked_mul(1024)
                .filter(|&bytes| bytes <= max)
                .ok_or_else(|| format!("{k} {n} is more than any machine has ({} KiB)", max / 1024))
        };
        Ok(PsLine {
            time,
            pid: within("pid", num("pid", fields[1])?, MAX_PID)? as u32,
            ppid: within("ppid", num("ppid", fields[2])?, MAX_PID)? as u32,
            comm: fields[3].trim(),
            rss_bytes: kib("rss_kb", fields[4], MAX_RSS_BYTES)?,
            vsz_bytes: kib("vsz_kb", fields[5], MAX_VSZ_BYTES)?,
            command: fields[6].trim(),
        })
    })();
    Some(parsed)
}

/// Parses the process TSV. A header line is optional; rows with too few fields, bad numbers,
/// or numbers no machine can have (a PID past [`MAX_PID`], an RSS past [`MAX_RSS_BYTES`]) are
/// skipped with a warning.
pub fn parse_ps_tsv(text: &str) -> (Vec<PsRow>, Vec<Warning>) {
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    let mut last_time = None;
    for (i, line) in text.lines().enumerate() {
        match parse_ps_line(line, &mut last_time) {
            None => {}
            Some(Ok(r)) => rows.push(r.to_row()),
            Some(Err(message)) => warnings.push(Warning {
                line: i + 1,
                message,
            }),
        }
    }
    (rows, warnings)
}

/// Calls `each` with every line of `input`, numbered from 1, without its line end (`\n` or
/// `\r\n`, as [`str::lines`] takes them); a line that is not UTF-8 is read with its bad bytes
/// replaced. Holds one line at a time.
pub fn each_line(
    mut input: impl std::io::BufRead,
    mut each: impl FnMut(usize, &str),
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        number += 1;
        if buf.ends_with(b"\n") {
            buf.pop();
            if buf.ends_with(b"\r") {
                buf.pop();
            }
        }
        match std::str::from_utf8(&buf) {
            Ok(line) => each(number, line),
            Err(_) => each(number, &String::from_utf8_lossy(&buf)),
        }
    }
}

/// Splits a `ps`-joined command line into arguments. Spaces inside arguments are lost by
/// `ps`; the one place that matters, a `--model` path with spaces (`/Users/First Last/…`),
/// is put back together: everything after `--model` up to the next option is one argument.
pub fn split_command(command: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // 0: ordinary; 1: the last word was `--model`; 2: the last word is a `--model` value.
    let mut state = 0;
    for word in command.split_whitespace() {
        match state {
            2 if !word.starts_with('-') => {
                if let Some(value) = out.last_mut() {
                    value.push(' ');
                    value.push_str(word);
                }
                continue;
            }
            1 if !word.starts_with('-') => {
                out.push(word.to_owned());
                state = 2;
                continue;
            }
            _ => {}
        }
        out.push(word.to_owned());
        state = if word == "--model" || word == "-m" {
            1
        } else {
            0
        };
    }
    out
}

/// What `memory_pressure` said.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MemoryPressure {
    /// "The system has N" (bytes).
    pub total_bytes: Option<u64>,
    /// "System-wide memory free percentage: N%".
    pub free_percent: Option<f64>,
}

/// What `sysctl vm.swapusage` said, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwapUsage {
    /// `total =`.
    pub total_bytes: u64,
    /// `used =`.
    pub used_bytes: u64,
}

/// One row of an `ollama ps` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OllamaPsRow {
    /// NAME.
    pub name: String,
    /// ID (first 12 hex of the manifest digest).
    pub id: String,
    /// SIZE, back to bytes from Ollama's decimal units (lossy: `4.0 GB` is 4 000 000 000).
    pub size_bytes: Option<u64>,
    /// PROCESSOR, as printed.
    pub processor: String,
    /// CONTEXT (v0.10+).
    pub context: Option<u64>,
    /// UNTIL, as printed.
    pub until: String,
}

/// One `===== time =====` block of the system log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// The line of the `=====` header.
    pub line: usize,
    /// Its time.
    pub time: Option<jiff::Timestamp>,
    /// The `vm_stat` output, as text.
    pub vm_stat: Option<String>,
    /// What `memory_pressure` said.
    pub memory_pressure: Option<MemoryPressure>,
    /// What `sysctl vm.swapusage` said.
    pub swap: Option<SwapUsage>,
    /// The `ollama ps` table (empty when it had only a header).
    pub ollama_ps: Option<Vec<OllamaPsRow>>,
    /// `ollama ps` failed to reach the server (`Error: …`).
    pub ollama_error: Option<String>,
    /// The `/api/ps` JSON.
    pub api_ps: Option<PsResponse>,
}

/// Parses `total = 2048.00M  used = 990.81M  free = 1057.19M  (encrypted)`, with or without
/// the `vm.swapusage:` prefix, with `,` or `.` as the decimal mark, and `K`/`M`/`G` units.
pub fn parse_swapusage(line: &str) -> Option<SwapUsage> {
    let line = line.trim().trim_start_matches("vm.swapusage:").trim();
    let value = |key: &str| -> Option<u64> {
        let rest = line
            .split(key)
            .nth(1)?
            .trim_start()
            .strip_prefix('=')?
            .trim_start();
        let token = rest.split_whitespace().next()?;
        let (num, unit) = token.split_at(token.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = num.replace(',', ".").parse().ok()?;
        // Swap is never negative: a minus sign is a damaged line, not 0 bytes.
        if !(n >= 0.0 && n.is_finite()) {
            return None;
        }
        let mult = match unit {
            "K" => 1024.0,
            "M" => 1024.0 * 1024.0,
            "G" => 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        Some((n * mult).round() as u64)
    };
    Some(SwapUsage {
        total_bytes: value("total")?,
        used_bytes: value("used")?,
    })
}

/// `format.HumanBytes` back to bytes: decimal units (`KB` = 1000), `N B` below 1000.
fn parse_human_bytes(s: &str) -> Option<u64> {
    let mut it = s.split_whitespace();
    let n: f64 = it.next()?.parse().ok()?;
    let mult = match it.next()? {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((n * mult).round() as u64)
}

/// Splits a table line into cells: on tabs (Ollama ≤ v0.3.10, which also pads with spaces)
/// or on runs of two or more spaces (v0.3.11+).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in line.split('\t') {
        let mut cur = String::new();
        let mut spaces = 0;
        for ch in part.chars() {
            if ch == ' ' {
                spaces += 1;
                continue;
            }
            if spaces >= 2 && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            } else if spaces == 1 && !cur.is_empty() {
                cur.push(' ');
            }
            spaces = 0;
            cur.push(ch);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Parses an `ollama ps` table (header line first). Columns are found by the header's names,
/// so the 5- and 6-column layouts both work.
pub fn parse_ollama_ps(lines: &[&str]) -> Option<Vec<OllamaPsRow>> {
    let header = cells(lines.first()?);
    let col = |name: &str| header.iter().position(|h| h == name);
    let (name_i, id_i, size_i) = (col("NAME")?, col("ID")?, col("SIZE")?);
    let (proc_i, ctx_i, until_i) = (col("PROCESSOR"), col("CONTEXT"), col("UNTIL"));
    let mut rows = Vec::new();
    for line in &lines[1..] {
        let c = cells(line);
        if c.len() < 3 {
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| c.get(i)).cloned().unwrap_or_default();
        rows.push(OllamaPsRow {
            name: get(Some(name_i)),
            id: get(Some(id_i)),
            size_bytes: parse_human_bytes(&get(Some(size_i))),
            processor: get(proc_i),
            context: get(ctx_i).parse().ok(),
            until: get(until_i),
        });
    }
    Some(rows)
}

impl OllamaPsRow {
    /// As an `/api/ps` entry, for a block that has the table but no JSON. The size is lossy
    /// (see [`OllamaPsRow::size_bytes`]).
    pub fn to_running_model(&self) -> RunningModel {
        RunningModel {
            name: self.name.clone(),
            model: self.name.clone(),
            size: self.size_bytes.unwrap_or(0),
            digest: self.id.clone(),
            context_length: self.context,
            ..RunningModel::default()
        }
    }
}

/// Whether `line` opens a block, and its time (`None` when it cannot be read). A line that
/// starts like a header but was cut (`===== 2026-05-14`) opens a block too, whose time cannot
/// be read: its lines are skipped with a warning instead of joining the block before. A byte
/// order mark (a log saved by an editor) is not part of the line.
fn header_time(line: &str) -> Option<Option<jiff::Timestamp>> {
    let line = line.trim().trim_start_matches('\u{feff}');
    let inner = line.strip_prefix("=====")?;
    Some(inner.strip_suffix("=====").and_then(parse_time))
}

/// Parses the system log into blocks. A block whose header time cannot be read is skipped
/// with a warning; so is a section that starts but cannot be parsed.
pub fn parse_system_log(text: &str) -> (Vec<Block>, Vec<Warning>) {
    let mut blocks = Vec::new();
    let mut warnings = Vec::new();
    let mut log = SystemLog::default();
    for (i, line) in text.lines().enumerate() {
        log.line(i + 1, line, |b, w| {
            blocks.extend(b);
            warnings.extend(w);
        });
    }
    log.finish(|b, w| {
        blocks.extend(b);
        warnings.extend(w);
    });
    (blocks, warnings)
}

/// The system log read a line at a time: each block is handed on, with its warnings, once
/// the next block's header (or the end) shows where it ends, so that only one block's lines
/// are held.
#[derive(Debug, Default)]
pub struct SystemLog {
    /// The open block's header: its line, its time (`None`: a time that cannot be read) and
    /// its text.
    open: Option<(usize, Option<jiff::Timestamp>, String)>,
    lines: Vec<String>,
}

impl SystemLog {
    /// Reads line `number`; `done` gets a finished block (or `None` for one that was
    /// skipped) and its warnings.
    pub fn line(
        &mut self,
        number: usize,
        line: &str,
        done: impl FnOnce(Option<Block>, Vec<Warning>),
    ) {
        match header_time(line) {
            Some(time) => {
                let finished = self.take();
                self.open = Some((number, time, line.trim().to_owned()));
                if let Some((b, w)) = finished {
                    done(b, w);
                }
            }
            None => {
                if self.open.is_some() {
                    self.lines.push(line.to_owned());
                }
            }
        }
    }

    /// Hands on the last block.
    pub fn finish(&mut self, done: impl FnOnce(Option<Block>, Vec<Warning>)) {
        if let Some((b, w)) = self.take() {
            done(b, w);
        }
    }

    fn take(&mut self) -> Option<(Option<Block>, Vec<Warning>)> {
        let (start, time, header) = self.open.take()?;
        let lines: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        let out = match time {
            Some(t) => {
                let (block, w) = parse_block(&lines, start + 1, t);
                (
                    Some(Block {
                        line: start,
                        ..block
                    }),
                    w,
                )
            }
            None => (
                None,
                vec![Warning {
                    line: start,
                    message: format!("`{header}` has no readable UTC time; block skipped"),
                }],
            ),
        };
        self.lines.clear();
        Some(out)
    }
}

fn parse_block(lines: &[&str], first_line: usize, time: jiff::Timestamp) -> (Block, Vec<Warning>) {
    let mut b = Block {
        time: Some(time),
        ..Block::default()
    };
    let mut warnings = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        let here = first_line + i;
        if t.starts_with("Mach Virtual Memory Statistics") {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim_end().ends_with('.') && lines[j].contains(':') {
                j += 1;
            }
            b.vm_stat = Some(lines[i..j].join("\n"));
            i = j;
        } else if t.starts_with("The system has") {
            let mut mp = MemoryPressure {
                total_bytes: t
                    .strip_prefix("The system has")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse().ok()),
                ..MemoryPressure::default()
            };
            let mut j = i + 1;
            while j < lines.len() {
                let l = lines[j].trim();
                if let Some(p) = l.strip_prefix("System-wide memory free percentage:") {
                    mp.free_percent = p
                        .trim()
                        .trim_end_matches('%')
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| (0.0..=100.0).contains(v));
                    if mp.free_percent.is_none() {
                        warnings.push(Warning {
                            line: first_line + j,
                            message: format!("`{l}`: no percentage from 0 to 100"),
                        });
                    }
                    j += 1;
                    break;
                }
                if header_like(l) {
                    break;
                }
                j += 1;
            }
            b.memory_pressure = Some(mp);
            i = j;
        } else if t.starts_with("vm.swapusage") || t.starts_with("total =") {
            match parse_swapusage(t) {
                Some(s) => b.swap = Some(s),
                None => warnings.push(Warning {
                    line: here,
                    message: format!("`{t}` is not a swap usage line"),
                }),
            }
            i += 1;
        } else if t.starts_with("NAME") && t.contains("ID") && t.contains("SIZE") {
            let mut j = i + 1;
            while j < lines.len()
                && !lines[j].trim().is_empty()
                && !lines[j].trim_start().starts_with('{')
            {
                j += 1;
            }
            match parse_ollama_ps(&lines[i..j]) {
                Some(rows) => b.ollama_ps = Some(rows),
                None => warnings.push(Warning {
                    line: here,
                    message: "an `ollama ps` table without NAME, ID and SIZE columns".into(),
                }),
            }
            i = j;
        } else if t.starts_with("Error:") && b.ollama_ps.is_none() {
            b.ollama_error = Some(t.to_owned());
            i += 1;
        } else if t.starts_with('{') {
            // jq pretty-prints; the object ends at the line where the braces balance, counted
            // outside strings (a model name may hold a bracket).
            let mut depth = 0i64;
            let mut j = i;
            let mut closed = false;
            let (mut in_string, mut escaped) = (false, false);
            while j < lines.len() {
                for ch in lines[j].chars() {
                    match (in_string, escaped, ch) {
                        (true, true, _) => escaped = false,
                        (true, false, '\\') => escaped = true,
                        (true, false, '"') => in_string = false,
                        (true, false, _) => {}
                        (false, _, '"') => in_string = true,
                        (false, _, '{' | '[') => depth += 1,
                        (false, _, '}' | ']') => depth -= 1,
                        (false, _, _) => {}
                    }
                }
                j += 1;
                if depth <= 0 {
                    closed = true;
                    break;
                }
            }
            let json = lines[i..j].join("\n");
            match (closed, crate::ollama::parse_ps(&json)) {
                (true, Ok(ps)) => b.api_ps = Some(ps),
                (_, Err(e)) => warnings.push(Warning {
                    line: here,
                    message: format!("/api/ps JSON skipped: {e}"),
                }),
                (false, Ok(_)) => warnings.push(Warning {
                    line: here,
                    message: "/api/ps JSON is cut short".into(),
                }),
            }
            i = j;
        } else {
            i += 1;
        }
    }
    (b, warnings)
}

/// A line that starts another section.
fn header_like(l: &str) -> bool {
    l.starts_with("Mach Virtual Memory")
        || l.starts_with("vm.swapusage")
        || l.starts_with("total =")
        || l.starts_with("NAME")
        || l.starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../tests/fixtures/seed/", $name))
        };
    }

    #[test]
    fn swapusage_variants() {
        let m = 1024.0 * 1024.0;
        let mib = |v: f64| (v * m).round() as u64;
        let cases = [
            (fixture!("fastfetch-245-zero-swap-encrypted.txt"), 0.0, 0.0),
            (fixture!("oct-2026-16g-990M-used.txt"), 2048.0, 990.81),
            (
                fixture!("orbstack-notes-no-encrypted-suffix.txt"),
                2048.0,
                605.88,
            ),
            (fixture!("px-80-4096M.txt"), 4096.0, 2743.50),
        ];
        for (text, total, used) in cases {
            let s = parse_swapusage(text.trim()).unwrap();
            assert_eq!(
                (s.total_bytes, s.used_bytes),
                (mib(total), mib(used)),
                "{text}"
            );
        }
        let comma = parse_swapusage("total = 1024,00M  used = 512,50M  free = 511,50M  ").unwrap();
        assert_eq!(comma.used_bytes, mib(512.5));
        assert_eq!(
            parse_swapusage("vm.swapusage: total = 2.00G  used = 1.00G  free = 1.00G")
                .unwrap()
                .total_bytes,
            2 << 30
        );
        assert!(parse_swapusage("total = lots").is_none());
    }

    #[test]
    fn ollama_ps_tables_of_every_layout() {
        let t = |text: &str| {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let start = lines.iter().position(|l| l.starts_with("NAME")).unwrap();
            let end = lines[start + 1..]
                .iter()
                .position(|l| l.starts_with('%') || l.starts_with("NAME") || l.ends_with(':'))
                .map_or(lines.len(), |e| start + 1 + e);
            parse_ollama_ps(&lines[start..end]).unwrap()
        };
        let two = t(fixture!("ollama-bash-lib-demo-two-models-2025-07-29.txt"));
        assert_eq!(two.len(), 2);
        assert_eq!(
            (two[0].name.as_str(), two[0].id.as_str(), two[0].size_bytes),
            ("granite3.3:2b", "07bd1f170855", Some(2_700_000_000))
        );
        assert_eq!(
            (two[1].context, two[1].until.as_str()),
            (Some(4096), "4 minutes from now")
        );
        let tab = t(fixture!("ollama-9527-tab-padded-old-format.txt"));
        assert_eq!(
            (tab[0].name.as_str(), tab[0].size_bytes, tab[0].context),
            ("llama3:70b", Some(42_000_000_000), None)
        );
        assert_eq!(tab[0].until, "4 minutes from now");
        let partial = t(fixture!("gpt-oss-20b-partial-64-36.txt"));
        assert_eq!(partial[0].processor, "64%/36% CPU/GPU");
        let forever = t(fixture!("linux-amd-qwen3.8-27b-forever-keepalive.txt"));
        assert_eq!(
            (forever[0].until.as_str(), forever[0].context),
            ("Forever", Some(98304))
        );
        let old = t(fixture!("pre-0.10-gemma3-27b-partial-25-75.txt"));
        assert_eq!(
            (
                old[0].name.as_str(),
                old[0].processor.as_str(),
                old[0].context
            ),
            ("gemma3:27b", "25%/75% CPU/GPU", None)
        );
        let empty =
            parse_ollama_ps(&["NAME    ID    SIZE    PROCESSOR    CONTEXT    UNTIL"]).unwrap();
        assert!(empty.is_empty());
        assert!(parse_ollama_ps(&["no table here"]).is_none());
    }

    #[test]
    fn ps_rows_and_commands() {
        let text = "ts\tpid\tppid\tcomm\trss_kb\tvsz_kb\tcommand\n\
            2026-05-14T09:25:03Z\t91511\t91503\t/Applications/Ollama.app/Contents/Resources/ollama\t83792\t436878528\t/Applications/Ollama.app/Contents/Resources/ollama serve\n\
            garbage line\n\
            2026-05-14T09:25:03Z\tx\t1\tc\t1\t1\tc\n";
        let (rows, w) = parse_ps_tsv(text);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].rss_bytes, 83792 * 1024);
        assert_eq!(w.iter().map(|w| w.line).collect::<Vec<_>>(), [3, 4]);
        assert!(w[1].message.contains("pid"));
        let argv = split_command("/Applications/Ollama.app/Contents/Resources/ollama runner --model /Users/First Last/.ollama/models/blobs/sha256-ab --port 5");
        assert_eq!(
            argv,
            [
                "/Applications/Ollama.app/Contents/Resources/ollama",
                "runner",
                "--model",
                "/Users/First Last/.ollama/models/blobs/sha256-ab",
                "--port",
                "5"
            ]
        );
    }

    #[test]
    fn brackets_inside_json_strings_do_not_end_the_object() {
        let log = "===== 2026-05-14T09:25:03Z =====\n{\n  \"models\": [\n    {\n      \"name\": \"odd]}name[{\\\"q\",\n      \"size\": 5\n    }\n  ]\n}\n";
        let (blocks, warnings) = parse_system_log(log);
        assert!(warnings.is_empty(), "{warnings:?}");
        let ps = blocks[0].api_ps.as_ref().unwrap();
        assert_eq!(ps.models[0].name, "odd]}name[{\"q");
        assert_eq!(ps.models[0].size, 5);
    }

    #[test]
    fn memory_pressure_full_quiet_and_cut() {
        for (text, total, pct) in [
            (
                fixture!("openclaw-mini2-32g-2026-05-26.txt"),
                34359738368u64,
                Some(87.0),
            ),
            (
                fixture!("quiet-Q-16g-2026-09-01.txt"),
                17179869184,
                Some(66.0),
            ),
            (fixture!("head20-16g-2026-10-02.txt"), 17179869184, None),
        ] {
            let log = format!("===== 2026-05-14T09:25:03Z =====\n{text}\n");
            let (blocks, _) = parse_system_log(&log);
            let mp = blocks[0].memory_pressure.unwrap();
            assert_eq!((mp.total_bytes, mp.free_percent), (Some(total), pct));
        }
    }

    /// Three ways a block went missing without a word.
    #[test]
    fn no_block_is_dropped_without_a_warning() {
        // A byte order mark before the first header: the block is read.
        let (blocks, warnings) = parse_system_log(&format!(
            "\u{feff}===== 2026-05-14T09:25:03Z =====\n{}",
            fixture!("oct-2026-16g-990M-used.txt")
        ));
        assert_eq!(blocks.len(), 1, "{warnings:?}");
        assert!(blocks[0].swap.is_some());
        // A header cut short: its block is skipped and said, not joined to the one before.
        let (blocks, warnings) = parse_system_log(
            "===== 2026-05-14T09:25:03Z =====\nPages free: 1.\n===== 2026-05-14\ntotal = 2048.00M  used = 1.00M  free = 2047.00M\n",
        );
        assert_eq!(blocks.len(), 1);
        assert!(
            blocks[0].swap.is_none(),
            "the cut block's lines stay out of the first"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 3);
        assert!(warnings[0].message.contains("no readable UTC time"));
        // Negative swap is a damaged line, not 0 bytes.
        assert!(parse_swapusage("total = 2048.00M  used = -990.81M  free = 1057.19M").is_none());
        let (blocks, warnings) = parse_system_log(
            "===== 2026-05-14T09:25:03Z =====\ntotal = 2048.00M  used = -990.81M  free = 1057.19M\n",
        );
        assert!(blocks[0].swap.is_none());
        assert!(
            warnings[0].message.contains("not a swap usage line"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_block_with_every_section_and_broken_ones() {
        let log = format!(
            "===== 2026-05-14T09:25:03Z =====\n{}{}{}{}{}\n===== not a time =====\nPages free: 1.\n===== 2026-05-14T09:25:08Z =====\n{{\n  \"models\": [\n",
            fixture!("ollama-7255-m1-16k.txt"),
            fixture!("openclaw-mini2-32g-2026-05-26.txt"),
            fixture!("oct-2026-16g-990M-used.txt"),
            fixture!("ollama-bash-lib-demo-two-models-2025-07-29.txt"),
            fixture!("ollama-bash-lib-demo-two-models-2025-07-29.json"),
        );
        let (blocks, warnings) = parse_system_log(&log);
        assert_eq!(blocks.len(), 2);
        let b = &blocks[0];
        assert!(b
            .vm_stat
            .as_deref()
            .unwrap()
            .ends_with("Swapouts:                               6987980."));
        assert_eq!(b.memory_pressure.unwrap().free_percent, Some(87.0));
        assert_eq!(b.swap.unwrap().total_bytes, 2048 << 20);
        assert_eq!(b.ollama_ps.as_ref().unwrap().len(), 2);
        assert_eq!(b.api_ps.as_ref().unwrap().models[1].name, "llama3.2:3b");
        // The block with an unreadable time and the cut JSON are reported by line.
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].message.contains("no readable UTC time"));
        assert!(warnings[1].message.contains("/api/ps JSON"));
        assert!(blocks[1].api_ps.is_none());
    }
}
