//! What Ruche's load generators share (`live-bench`, `login-flood`): plain HTTP/1.1, over one TCP
//! connection per request as a phone's first request would be, or over kept-alive connections
//! (`KeptAlive`), and the figures they print.
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
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
    post_request_on(target, path, form, headers, "close")
}

/// The same, its connection kept open (`Connection: keep-alive`) or not (`close`).
fn post_request_on(
    target: SocketAddr,
    path: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
    connection: &str,
) -> String {
    let body: String = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
    let headers: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n{headers}\r\n{body}",
        body.len()
    )
}

pub fn get_request(target: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let headers: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    format!("GET {path} HTTP/1.1\r\nHost: {target}\r\nAccept: text/html\r\nConnection: close\r\n{headers}\r\n")
}

/// Sends one request on a fresh connection and reads the whole answer.
pub async fn exchange(stream: TcpStream, request: &str) -> Result<Reply, Error> {
    Ok(send(&mut BufReader::new(stream), request).await?.0)
}

/// Sends one request and reads its answer; also whether the server keeps the connection open.
async fn send(stream: &mut BufReader<TcpStream>, request: &str) -> Result<(Reply, bool), Error> {
    stream.get_mut().write_all(request.as_bytes()).await?;
    read_reply(stream).await
}

/// Reads one answer; also whether the server keeps the connection open after it.
async fn read_reply(stream: &mut BufReader<TcpStream>) -> Result<(Reply, bool), Error> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read_until(b'\n', &mut head).await? == 0 {
            return Err("connection closed before the answer's header end".into());
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let (mut cookies, mut chunked, mut length, mut kept) = (Vec::new(), false, None, true);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        match name.trim().to_ascii_lowercase().as_str() {
            "set-cookie" => cookies.push(value.trim().split(';').next().unwrap_or_default().to_owned()),
            "transfer-encoding" if value.contains("chunked") => chunked = true,
            "content-length" => length = value.trim().parse::<usize>().ok(),
            "connection" if value.trim().eq_ignore_ascii_case("close") => kept = false,
            _ => {}
        }
    }
    // Bytes until the body is whole: a compressed one is no text, and its chunk sizes count bytes.
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or_default(), 16)?;
            // The chunk and the line end after it.
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
    } else {
        stream.read_to_end(&mut body).await?;
        kept = false;
    }
    Ok((Reply { status, cookies, body: String::from_utf8_lossy(&body).into_owned() }, kept))
}

/// Keep-alive connections to one server, each taken for one request at a time and put back, as a
/// browser reuses its connection for a page's requests (and a proxy its upstream connections):
/// requests then cost no new connection each.
pub struct KeptAlive {
    target: SocketAddr,
    idle: std::sync::Mutex<Vec<BufReader<TcpStream>>>,
}

impl KeptAlive {
    pub fn new(target: SocketAddr) -> Self {
        Self { target, idle: std::sync::Mutex::new(Vec::new()) }
    }

    /// A server function call (see `post_request`) on an idle connection, or on a new one from
    /// `source` when none is idle. One the server closed while it was idle is replaced, once.
    pub async fn post(
        &self,
        source: IpAddr,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Result<Reply, Error> {
        let request = post_request_on(self.target, path, form, headers, "keep-alive");
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let reused = idle.is_some();
        let mut stream = match idle {
            Some(stream) => stream,
            None => BufReader::new(connect(self.target, source).await?),
        };
        let (reply, kept) = match send(&mut stream, &request).await {
            Ok(answer) => answer,
            Err(_) if reused => {
                stream = BufReader::new(connect(self.target, source).await?);
                send(&mut stream, &request).await?
            }
            Err(e) => return Err(e),
        };
        if kept {
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(stream);
        }
        Ok(reply)
    }
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
