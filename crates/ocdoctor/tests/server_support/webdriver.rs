//! Headless Chromium through chromedriver's WebDriver protocol (plain HTTP + JSON).

use super::http;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

fn which(names: &[&str]) -> Option<std::path::PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// `None` (after a loud message) when chromium or chromedriver is missing and
    /// `OCDOCTOR_REQUIRE_BROWSER` is unset.
    pub fn start() -> Option<Browser> {
        let (Some(chromium), Some(driver)) = (
            which(&["chromium", "chromium-browser"]),
            which(&["chromedriver"]),
        ) else {
            if std::env::var_os("OCDOCTOR_REQUIRE_BROWSER").is_some() {
                panic!("OCDOCTOR_REQUIRE_BROWSER is set but chromium or chromedriver is missing");
            }
            eprintln!(
                "\n\n!!!!!!!!!! SKIPPED: the browser test (install Debian's `chromium` and \
                 `chromium-driver`; OCDOCTOR_REQUIRE_BROWSER=1 makes this a failure) !!!!!!!!!!\n\n"
            );
            return None;
        };
        let port = super::pg::free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while http::request(addr, "GET", "/status", &[], b"").map_or(true, |r| {
            !r.json()["value"]["ready"].as_bool().unwrap_or(false)
        }) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--window-size=1280,1000",
                         format!("--user-data-dir={}", profile.path().display())],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let r = http::post_json(addr, "/session", None, &caps);
        let session = r.json()["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {}", r.body))
            .to_string();
        Some(Browser {
            driver,
            addr,
            session,
            _profile: profile,
        })
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let r = if method == "GET" {
            http::get(self.addr, &path, None)
        } else {
            http::post_json(self.addr, &path, None, &body)
        };
        let v = r.json();
        assert!(
            r.status == 200,
            "WebDriver {method} {path}: {} {}",
            r.status,
            r.body
        );
        v["value"].clone()
    }

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url}));
    }

    pub fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/clear"), json!({}));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({"text": text}),
        );
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// The page as a PNG, base64 (its length is the test's "not blank" measure).
    pub fn screenshot(&self) -> String {
        self.call("GET", "/screenshot", Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The console messages since the last call, as `(level, message)`.
    pub fn console(&self) -> Vec<(String, String)> {
        let path = format!("/session/{}/se/log", self.session);
        let mut r = http::post_json(self.addr, &path, None, &json!({"type": "browser"}));
        if r.status != 200 {
            let legacy = format!("/session/{}/log", self.session);
            r = http::post_json(self.addr, &legacy, None, &json!({"type": "browser"}));
        }
        assert_eq!(r.status, 200, "browser log: {}", r.body);
        r.json()["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = http::request(self.addr, "DELETE", &path, &[], b"");
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
