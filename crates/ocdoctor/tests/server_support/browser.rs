//! Every page in headless Chromium: it renders (a screenshot larger than a blank page's), the
//! charts are in the rendered DOM, the console stays clean, there is no script at all (so the
//! pages work without JavaScript), and an XSS payload in an uploaded log stays text.

use super::support::webdriver::Browser;
use super::support::{Server, client_id, lying_report, token, upload_body};
use super::{XSS_IMG, XSS_SCRIPT, rand_n, upload, xss_log};

#[test]
fn every_page_in_chromium() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("browser.db").display());
    let t = token(&db, "alpha", None);
    let server = Server::start(&db, &[]);
    let a = server.addr;
    let base = format!("http://{a}");
    let ok = upload(
        a,
        &t,
        Some("rig-1"),
        Some("openocd -f interface/stlink.cfg -f target/stm32f4x.cfg"),
        &super::support::example_log("stlink-not-found.log"),
    );
    let xss = upload(
        a,
        &t,
        Some("rig-2"),
        Some(&format!("openocd -c \"{XSS_SCRIPT}\"")),
        &xss_log(),
    );
    let body = upload_body(
        &client_id(rand_n()),
        None,
        None,
        &super::support::example_log("port-in-use.log"),
        lying_report(),
    );
    assert_eq!(
        super::support::http::post_json(a, "/api/v1/reports", Some(&t), &body).status,
        201
    );

    browser.go("about:blank");
    let blank = browser.screenshot().len();
    let _ = browser.console();

    // Log in through the form, as a person would.
    browser.go(&format!("{base}/login"));
    check_page(&browser, "login", blank);
    browser.type_into("#token", &t);
    browser.click("button[type=submit]");
    // The click starts a navigation: wait for it (up to 10 s on a loaded machine).
    let mut url = String::new();
    for _ in 0..100 {
        url = browser
            .eval("return location.pathname")
            .as_str()
            .unwrap_or("")
            .to_string();
        if url == "/incidents" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(url, "/incidents", "login did not land on the incidents");

    let ok_id = ok["id"].as_str().unwrap();
    let xss_id = xss["id"].as_str().unwrap();
    let pages = [
        "/incidents".to_string(),
        "/incidents?cause=probe-not-found&rig=rig-1".to_string(),
        "/causes".to_string(),
        "/breakdown".to_string(),
        format!("/incidents/{ok_id}"),
        format!("/incidents/{xss_id}"),
    ];
    for p in &pages {
        browser.go(&format!("{base}{p}"));
        check_page(&browser, p, blank);
    }
    browser.go(&format!("{base}/causes"));
    assert_eq!(
        browser.eval("return document.querySelectorAll('svg.chart rect').length > 0"),
        true,
        "no bars in the causes chart"
    );
    browser.go(&format!("{base}/breakdown"));
    assert_eq!(
        browser.eval("return document.querySelectorAll('svg.bar rect').length > 0"),
        true,
        "no bars in the breakdowns"
    );

    // The payloads are text on the page, and nothing ran.
    browser.go(&format!("{base}/incidents/{xss_id}"));
    assert_eq!(
        browser.eval("return window.pwned === undefined"),
        true,
        "the XSS payload ran"
    );
    assert_eq!(
        browser.eval("return document.querySelectorAll('img, script').length"),
        0
    );
    let text = browser
        .eval("return document.body.innerText")
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        text.contains(XSS_SCRIPT),
        "the script payload is not shown as text"
    );
    assert!(
        text.contains(XSS_IMG),
        "the img payload is not shown as text"
    );

    // Resolve with the plain form (no script on the page).
    browser.go(&format!("{base}/incidents/{ok_id}"));
    browser.type_into("#fix", "Plugged the probe back in");
    browser.click("form.resolve button[type=submit]");
    // The click starts a form post and a navigation; read the page once it has arrived (up to
    // 10 s on a loaded machine), not the page the click left.
    let mut text = String::new();
    for _ in 0..100 {
        text = browser
            .eval("return document.body.innerText")
            .as_str()
            .unwrap_or("")
            .to_string();
        if text.contains("Resolved: probe-not-found") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        text.contains("Resolved: probe-not-found"),
        "the form did not resolve: {text}"
    );
    assert!(
        text.contains("What fixed it: Plugged the probe back in"),
        "{text}"
    );
    check_page(&browser, "after resolving", blank);
}

/// The page rendered, has no script, and the console has no error.
fn check_page(browser: &Browser, name: &str, blank: usize) {
    let shot = browser.screenshot();
    assert!(
        shot.starts_with("iVBORw0KGgo"),
        "{name}: the screenshot is not a PNG"
    );
    assert!(
        shot.len() > blank * 2,
        "{name}: the screenshot ({} bytes of base64) looks blank ({blank})",
        shot.len()
    );
    assert_eq!(
        browser.eval("return document.scripts.length"),
        0,
        "{name}: the page has a script"
    );
    let errors: Vec<(String, String)> = browser
        .console()
        .into_iter()
        .filter(|(level, msg)| {
            level == "SEVERE" || msg.contains("Uncaught") || msg.contains("Content Security Policy")
        })
        .collect();
    assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
}
