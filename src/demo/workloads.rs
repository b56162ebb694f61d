//! What each simulated container prints: nginx access/error logs, JSON and logfmt API logs,
//! plain-text worker logs (with the odd over-long line), a Go program that panics, shop
//! business logs and CoreDNS query logs. Pure functions of the time and a seeded [`Rng`].

use argus_core::time::format_rfc3339_nano;

use super::{Rng, NS_PER_SEC};

/// The simulated programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Nginx,
    Api,
    Sidecar,
    Worker,
    Crashy,
    Cart,
    Checkout,
    CoreDns,
}

/// The stream a line was written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One line as the program printed it (without the newline); the writer splits long ones.
pub(super) struct Line {
    pub(super) stream: Stream,
    pub(super) text: String,
}

fn out(text: String) -> Line {
    Line {
        stream: Stream::Stdout,
        text,
    }
}

fn err(text: String) -> Line {
    Line {
        stream: Stream::Stderr,
        text,
    }
}

/// A UTC calendar time, to the millisecond.
pub(super) struct Civil {
    pub(super) y: i64,
    pub(super) mo: u32,
    pub(super) d: u32,
    pub(super) h: i64,
    pub(super) mi: i64,
    pub(super) s: i64,
    pub(super) ms: i64,
}

/// Splits nanoseconds since the epoch into a UTC date and time (Howard Hinnant's algorithm).
pub(super) fn civil(ns: i64) -> Civil {
    let secs = ns.div_euclid(NS_PER_SEC);
    let ms = ns.rem_euclid(NS_PER_SEC) / 1_000_000;
    let sod = secs.rem_euclid(86_400);
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(mo <= 2);
    Civil {
        y,
        mo,
        d,
        h: sod / 3600,
        mi: sod / 60 % 60,
        s: sod % 60,
        ms,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `26/Nov/2026:10:15:00 +0000` (nginx' `$time_local`).
fn nginx_time(t: i64) -> String {
    let c = civil(t);
    let mon = MONTHS[(c.mo as usize + 11) % 12];
    format!(
        "{:02}/{mon}/{:04}:{:02}:{:02}:{:02} +0000",
        c.d, c.y, c.h, c.mi, c.s
    )
}

/// `2026/11/26 10:15:00` (nginx' error log and Go's `log` package).
fn slash_time(t: i64) -> String {
    let c = civil(t);
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

/// `2026-11-26 10:15:00.123` (logback's default).
fn dash_time_ms(t: i64) -> String {
    let c = civil(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        c.y, c.mo, c.d, c.h, c.mi, c.s, c.ms
    )
}

/// Whether `t` falls in the API's database outage: the first 5 seconds of every minute.
pub(super) fn in_burst(t: i64) -> bool {
    t.div_euclid(NS_PER_SEC).rem_euclid(60) < 5
}

const USER_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "curl/8.5.0",
    "kube-probe/1.31",
];

const API_PATHS: [&str; 6] = [
    "/v1/users",
    "/v1/products",
    "/v1/orders",
    "/v1/cart",
    "/v1/search",
    "/v1/recommendations",
];

/// A simulated program: its kind, its own random stream and a counter for ids.
pub(super) struct Gen {
    pub(super) kind: Kind,
    pub(super) rng: Rng,
    seq: u64,
}

impl Gen {
    pub(super) fn new(kind: Kind, rng: Rng) -> Gen {
        Gen {
            kind,
            rng,
            seq: 1000,
        }
    }

    /// Log entries per second the program prints around `t`.
    pub(super) fn rate(&self, t: i64) -> f64 {
        match self.kind {
            Kind::Nginx => 20.0,
            Kind::Api if in_burst(t) => 40.0,
            Kind::Api => 8.0,
            Kind::Sidecar => 2.0,
            Kind::Worker => 4.0,
            Kind::Crashy => 1.0,
            Kind::Cart => 5.0,
            Kind::Checkout => 3.0,
            Kind::CoreDns => 10.0,
        }
    }

    fn ip(&mut self) -> String {
        format!("10.244.{}.{}", self.rng.below(4), 2 + self.rng.below(250))
    }

    /// One log entry printed at `t`: usually one line, sometimes several.
    pub(super) fn entry(&mut self, t: i64) -> Vec<Line> {
        self.seq += 1;
        match self.kind {
            Kind::Nginx => self.nginx(t),
            Kind::Api => vec![self.api(t)],
            Kind::Sidecar => vec![self.sidecar(t)],
            Kind::Worker => vec![self.worker()],
            Kind::Crashy => vec![out(format!(
                "{} handled sync request id={} status=200 duration={}ms",
                slash_time(t),
                self.seq,
                self.rng.range(2, 90)
            ))],
            Kind::Cart => vec![self.cart(t)],
            Kind::Checkout => self.checkout(t),
            Kind::CoreDns => vec![self.coredns()],
        }
    }

    fn nginx(&mut self, t: i64) -> Vec<Line> {
        let ip = self.ip();
        if self.rng.chance(0.02) {
            let msg = match self.rng.below(3) {
                0 => format!("open() \"/usr/share/nginx/html/favicon.ico\" failed (2: No such file or directory), client: {ip}, server: localhost, request: \"GET /favicon.ico HTTP/1.1\", host: \"web.demo.svc\""),
                1 => format!("upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: localhost, request: \"GET /api/products HTTP/1.1\", upstream: \"http://10.96.12.40:8080/api/products\", host: \"web.demo.svc\""),
                _ => format!("connect() failed (111: Connection refused) while connecting to upstream, client: {ip}, server: localhost, request: \"POST /api/cart HTTP/1.1\", upstream: \"http://10.96.12.40:8080/api/cart\", host: \"web.demo.svc\""),
            };
            let pid = 29 + self.rng.below(4);
            return vec![err(format!(
                "{} [error] {pid}#{pid}: *{} {msg}",
                slash_time(t),
                self.seq
            ))];
        }
        let id = self.rng.range(1, 500);
        let (method, path, mut status) = match self.rng.below(14) {
            0 | 1 => ("GET", "/".to_string(), 200),
            2 => ("GET", "/index.html".to_string(), 200),
            3 => ("GET", "/static/js/app.3f9a1c.js".to_string(), 200),
            4 => ("GET", "/static/css/main.css".to_string(), 304),
            5 => ("GET", "/images/logo.png".to_string(), 200),
            6 | 7 => ("GET", format!("/api/products?page={}", id % 12), 200),
            8 => ("POST", "/api/cart".to_string(), 201),
            9 => ("GET", "/healthz".to_string(), 200),
            10 => ("GET", "/favicon.ico".to_string(), 404),
            11 => ("GET", "/wp-login.php".to_string(), 404),
            12 => ("PUT", "/api/profile".to_string(), 200),
            _ => ("DELETE", format!("/api/cart/items/{id}"), 204),
        };
        if status < 300 && self.rng.chance(0.03) {
            status = if self.rng.chance(0.7) { 500 } else { 502 };
        }
        let bytes = match status {
            204 | 304 => 0,
            404 => 153,
            _ => self.rng.range(120, 48_000),
        };
        let latency = if status >= 500 {
            0.5 + self.rng.unit() * 2.5
        } else {
            0.001 + self.rng.unit() * 0.12
        };
        let referer = if self.rng.chance(0.4) {
            "https://shop.example.com/"
        } else {
            "-"
        };
        let ua = *self.rng.pick(&USER_AGENTS);
        vec![out(format!(
            "{ip} - - [{}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"{referer}\" \"{ua}\" rt={latency:.3}",
            nginx_time(t)
        ))]
    }

    fn api(&mut self, t: i64) -> Line {
        let ts = format_rfc3339_nano(t);
        let user = self.rng.range(1, 5000);
        if in_burst(t) && self.rng.chance(0.85) {
            let msg = *self.rng.pick(&[
                "error connecting to database: connection refused",
                "error connecting to database: connection refused",
                "error executing query: context deadline exceeded",
                "request failed: upstream error",
            ]);
            return err(format!(
                "{{\"ts\":\"{ts}\",\"level\":\"error\",\"msg\":\"{msg}\",\"db_host\":\"postgres.demo.svc:5432\",\"attempt\":{},\"user_id\":{user},\"latency_ms\":{}}}",
                self.rng.range(1, 6),
                self.rng.range(1000, 5000)
            ));
        }
        let path = *self.rng.pick(&API_PATHS);
        match self.rng.below(20) {
            0..=3 => out(format!(
                "{{\"ts\":\"{ts}\",\"level\":\"debug\",\"msg\":\"cache {}\",\"key\":\"user:{user}\",\"user_id\":{user}}}",
                if self.rng.chance(0.8) { "hit" } else { "miss" }
            )),
            4 => out(format!(
                "{{\"ts\":\"{ts}\",\"level\":\"warn\",\"msg\":\"slow query\",\"query\":\"SELECT * FROM orders WHERE user_id = $1\",\"user_id\":{user},\"latency_ms\":{}}}",
                self.rng.range(500, 2000)
            )),
            _ => {
                let method = if self.rng.chance(0.75) { "GET" } else { "POST" };
                let status = if self.rng.chance(0.97) { 200 } else { 404 };
                out(format!(
                    "{{\"ts\":\"{ts}\",\"level\":\"info\",\"msg\":\"request completed\",\"method\":\"{method}\",\"path\":\"{path}\",\"status\":{status},\"user_id\":{user},\"latency_ms\":{},\"request_id\":\"req-{:08x}\"}}",
                    self.rng.range(2, 180),
                    self.rng.next_u64() as u32
                ))
            }
        }
    }

    fn sidecar(&mut self, t: i64) -> Line {
        let ts = format_rfc3339_nano(t);
        if in_burst(t) && self.rng.chance(0.5) {
            return out(format!(
                "ts={ts} level=error msg=\"upstream returned 503\" upstream=127.0.0.1:8080 duration_ms={}",
                self.rng.range(1000, 5000)
            ));
        }
        out(match self.rng.below(10) {
            0 => format!("ts={ts} level=debug msg=\"config watch tick\" version={}", self.seq / 100),
            1 => format!("ts={ts} level=info msg=\"health check passed\" target=127.0.0.1:8080"),
            2 => format!(
                "ts={ts} level=warn msg=\"upstream slow\" upstream=127.0.0.1:8080 duration_ms={}",
                self.rng.range(500, 1500)
            ),
            _ => format!(
                "ts={ts} level=info msg=\"proxied request\" upstream=127.0.0.1:8080 status=200 duration_ms={} bytes={}",
                self.rng.range(1, 120),
                self.rng.range(200, 9000)
            ),
        })
    }

    fn worker(&mut self) -> Line {
        let job = self.seq;
        let since_report = job % 150;
        if since_report == 0 {
            // A report line far over containerd's 16 KiB piece size: written as P pieces + F.
            let target = self.rng.range(20_000, 40_000) as usize;
            let mut s = format!("INFO batch report for jobs {}..{job}:", job - 150);
            let mut j = job - 150;
            while s.len() < target {
                j += 1;
                s.push_str(&format!(
                    " job={j} status=ok duration_ms={};",
                    self.rng.range(5, 400)
                ));
            }
            return out(s);
        }
        let queue = *self
            .rng
            .pick(&["emails", "thumbnails", "exports", "webhooks"]);
        out(match self.rng.below(20) {
            0 | 1 => format!(
                "WARN retrying job {} (attempt {}/5): upstream returned 503",
                job - self.rng.below(5),
                self.rng.range(2, 5)
            ),
            2 => format!("ERROR job {job} failed: timeout after 30s queue={queue}"),
            3 => format!(
                "DEBUG polling queue {queue}: {} pending",
                self.rng.below(40)
            ),
            _ => format!(
                "INFO processed job {job} in {}ms queue={queue}",
                self.rng.range(3, 900)
            ),
        })
    }

    /// What the program prints when it (re)starts at `t`.
    pub(super) fn startup(&mut self, t: i64) -> Vec<Line> {
        if self.kind != Kind::Crashy {
            return Vec::new();
        }
        let ts = slash_time(t);
        vec![
            out(format!(
                "{ts} starting payments-sync v1.4.2 (commit 3f9a1c2, go1.23.4)"
            )),
            out(format!(
                "{ts} loading config from /etc/payments-sync/config.yaml"
            )),
            out(format!("{ts} connected to redis at redis.demo.svc:6379")),
            out(format!("{ts} listening on :8080")),
        ]
    }

    /// The Go runtime's dying words.
    pub(super) fn crash(&mut self) -> Vec<Line> {
        let g = self.rng.range(20, 200);
        let lines = [
            "panic: runtime error: invalid memory address or nil pointer dereference".to_string(),
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b3c2f]".to_string(),
            String::new(),
            format!("goroutine {g} [running]:"),
            "main.(*SyncHandler).ServeHTTP(0x0, {0x7f8a2c, 0xc0001a2000}, 0xc0001b4000)"
                .to_string(),
            "\t/src/cmd/payments-sync/handler.go:87 +0x2f".to_string(),
            "net/http.serverHandler.ServeHTTP({0xc0000f6000?}, {0x7f8a2c?, 0xc0001a2000?}, 0x6?)"
                .to_string(),
            "\t/usr/local/go/src/net/http/server.go:3210 +0x8e".to_string(),
            "net/http.(*conn).serve(0xc0000f8000, {0x7f9b10, 0xc0000a6000})".to_string(),
            "\t/usr/local/go/src/net/http/server.go:2092 +0x5e8".to_string(),
            "created by net/http.(*Server).Serve in goroutine 1".to_string(),
            "\t/usr/local/go/src/net/http/server.go:3360 +0x4b4".to_string(),
        ];
        lines.into_iter().map(err).collect()
    }

    fn cart(&mut self, t: i64) -> Line {
        let ts = dash_time_ms(t);
        let thread = format!("nio-8080-exec-{}", self.rng.range(1, 11));
        let sku = self.rng.range(1000, 9999);
        let user = self.rng.range(1, 5000);
        let cart = self.rng.next_u64() as u16;
        match self.rng.below(40) {
            0 => out(format!("{ts} ERROR 1 --- [{thread}] c.e.shop.cart.InventoryClient       : Failed to reserve inventory for SKU-{sku}: 409 Conflict")),
            1 | 2 => out(format!("{ts}  WARN 1 --- [{thread}] c.e.shop.cart.InventoryClient       : Inventory service slow: {}ms", self.rng.range(800, 3000))),
            3..=12 => out(format!("{ts}  INFO 1 --- [{thread}] c.e.shop.cart.CartController        : Removed SKU-{sku} from cart {cart:04x} for user {user}")),
            13..=20 => out(format!("{ts} DEBUG 1 --- [{thread}] c.e.shop.cart.CartRepository        : Loaded cart {cart:04x} ({} items)", self.rng.below(8))),
            _ => out(format!("{ts}  INFO 1 --- [{thread}] c.e.shop.cart.CartController        : Added SKU-{sku} (qty {}) to cart {cart:04x} for user {user}", self.rng.range(1, 4))),
        }
    }

    fn checkout(&mut self, t: i64) -> Vec<Line> {
        let ts = format_rfc3339_nano(t - t.rem_euclid(1_000_000));
        let order = format!("ORD-{}", 100_000 + self.seq);
        let provider = *self.rng.pick(&["stripe", "adyen", "paypal"]);
        match self.rng.below(30) {
            0 => vec![
                out(format!("{ts} ERROR payment declined order_id={order} provider={provider} code=card_declined reason=\"insufficient funds\"")),
                out(format!("{ts} ERROR com.example.checkout.PaymentDeclinedException: card_declined")),
                out("\tat com.example.checkout.PaymentService.charge(PaymentService.java:142)".to_string()),
                out("\tat com.example.checkout.CheckoutController.placeOrder(CheckoutController.java:88)".to_string()),
            ],
            1..=3 => vec![out(format!(
                "{ts} WARN payment retry order_id={order} provider={provider} attempt={} reason=\"gateway timeout\"",
                self.rng.range(2, 4)
            ))],
            4..=11 => vec![out(format!(
                "{ts} INFO payment authorized order_id={order} provider={provider} amount={}.{:02} currency=EUR",
                self.rng.range(5, 400),
                self.rng.below(100)
            ))],
            _ => vec![out(format!(
                "{ts} INFO order placed order_id={order} items={} amount={}.{:02} currency=EUR user_id={}",
                self.rng.range(1, 8),
                self.rng.range(5, 400),
                self.rng.below(100),
                self.rng.range(1, 5000)
            ))],
        }
    }

    fn coredns(&mut self) -> Line {
        let ip = self.ip();
        let port = self.rng.range(32768, 61000);
        let id = self.rng.below(65536);
        if self.rng.chance(0.01) {
            return out(format!(
                "[ERROR] plugin/errors: 2 api.stripe.com. A: read udp {ip}:{port}->8.8.8.8:53: i/o timeout"
            ));
        }
        let (name, rcode, flags) = match self.rng.below(8) {
            0 => ("api.demo.svc.cluster.local.", "NOERROR", "qr,aa,rd"),
            1 => ("postgres.demo.svc.cluster.local.", "NOERROR", "qr,aa,rd"),
            2 => ("cart.shop.svc.cluster.local.", "NOERROR", "qr,aa,rd"),
            3 => ("checkout.shop.svc.cluster.local.", "NOERROR", "qr,aa,rd"),
            4 => ("redis.demo.svc.cluster.local.", "NOERROR", "qr,aa,rd"),
            5 => ("api.stripe.com.", "NOERROR", "qr,rd,ra"),
            6 => (
                "api.stripe.com.demo.svc.cluster.local.",
                "NXDOMAIN",
                "qr,aa,rd",
            ),
            _ => (
                "postgres.demo.svc.cluster.local.svc.cluster.local.",
                "NXDOMAIN",
                "qr,aa,rd",
            ),
        };
        let qtype = if self.rng.chance(0.7) { "A" } else { "AAAA" };
        out(format!(
            "[INFO] {ip}:{port} - {id} \"{qtype} IN {name} udp {} false 512\" {rcode} {flags} {} {:.9}s",
            30 + name.len(),
            60 + self.rng.below(120),
            0.00005 + self.rng.unit() * 0.002
        ))
    }
}
