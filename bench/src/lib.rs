//! What Ruche's load generators share (`live-bench`, `login-flood`): plain HTTP/1.1 over one TCP
//! connection per request, as a phone's first request would be, and the figures they print.
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub fn arg(args: &[String], name: &str) -> Result<String, Error> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .ok_or_else(|| format!("missing {name}").into())
}

pub fn list<T: std::str::FromStr>(value: &str) -> Result<Vec<T>, Error>
where
    T::Err: std::fmt::Display,
{
    value.split(',').map(|v| v.trim().parse::<T>().map_err(|e| format!("{v}: {e}").into())).collect()
}

/// A connection from a chosen source address: the server tells clients apart by it (and
/// believes `X-Forwarded-For` only from a trusted proxy's).
pub async fn connect(target: SocketAddr, source: IpAddr) -> Result<TcpStream, Error> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.set_nodelay(true)?;
    Ok(socket.connect(target).await?)
}

pub struct Reply {
    pub status: u16,
    pub cookies: Vec<String>,
    pub body: String,
}

/// A server function call as a hydrated page makes it: form-encoded, JSON back.
pub fn post_request(target: SocketAddr, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> String {
    let body: String = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
    let headers: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
}

pub fn get_request(target: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let headers: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    format!("GET {path} HTTP/1.1\r\nHost: {target}\r\nAccept: text/html\r\nConnection: close\r\n{headers}\r\n")
}

/// Sends one request on a fresh connection and reads the whole answer.
pub async fn exchange(mut stream: TcpStream, request: &str) -> Result<Reply, Error> {
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    // Bytes until the body is whole: a compressed one is no text, and its chunk sizes count bytes.
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP header end")?;
    let (head, body) = (String::from_utf8_lossy(&raw[..end]), &raw[end + 4..]);
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let mut cookies = Vec::new();
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        match name.trim().to_ascii_lowercase().as_str() {
            "set-cookie" => cookies.push(value.trim().split(';').next().unwrap_or_default().to_owned()),
            "transfer-encoding" if value.contains("chunked") => chunked = true,
            _ => {}
        }
    }
    let body = if chunked { dechunk(body) } else { body.to_vec() };
    Ok(Reply { status, cookies, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let Some(size) =
            std::str::from_utf8(&body[..line_end]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
        else {
            break;
        };
        let rest = &body[line_end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
    }
    out
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

/// A memory figure of a process from /proc/<pid>/status, in KiB (`VmRSS`: now; `VmHWM`: the
/// peak since it started). 0 when the process is gone.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time these processes have used so far (user and system), in seconds; a process gone
/// counts 0. Read before and after a phase, it tells what the phase cost the servers whatever
/// else ran beside them (the load generator shares the machine).
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter().map(|&pid| process_cpu_seconds(pid)).sum()
}

fn process_cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // SAFETY: sysconf only reads a system setting.
    #[allow(unsafe_code)]
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    ticks as f64 / per_second.max(1) as f64
}

pub fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS")
}
