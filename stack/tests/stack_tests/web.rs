//! The web console in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver), against the stack binary and a fake model, as a person uses it — at a phone's
//! 390 px and a laptop's 1280 px. Typing and clicks go through WebDriver; what the page shows is
//! read back from it, and what was saved is checked through the API as well.
//!
//! Needs `chromium` and `chromium-driver` (Debian packages; `.ci/run` installs them). Screenshots
//! of every screen go to `target/web-screenshots/` (kept out of git).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Stack;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const PHOTO: &str = "calcium-d3-front.jpg";
const PASSWORD: &str = "s3cret-passw0rd";

fn photos_dir() -> PathBuf {
    std::env::var_os("DRUG_PHOTOS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/drug-photos"),
        PathBuf::from,
    )
}

fn chromedriver() -> PathBuf {
    let path = std::env::var_os("CHROMEDRIVER")
        .map_or_else(|| "/usr/bin/chromedriver".into(), PathBuf::from);
    assert!(
        path.exists(),
        "the browser test needs chromedriver at {} (apt-get install chromium chromium-driver, \
         or set CHROMEDRIVER)",
        path.display()
    );
    path
}

/// chromedriver on a free loopback port, killed with the test.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn browser(&self, width: u32, height: u32) -> Client {
        let mut caps = serde_json::Map::new();
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--lang=zh-CN", format!("--window-size={width},{height}")],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap();
        client.set_window_size(width, height).await.unwrap();
        client
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fake model, over raw HTTP/1.1 so that a streamed answer really arrives in parts: the
/// vision model reads the box as a good model would (the fields printed on it, from the
/// fixture's `expected.json`); the assistant creates an event through its tool, then says so in
/// three parts 300 ms apart.
async fn fake_model() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let expected: Value =
        serde_json::from_slice(&std::fs::read(photos_dir().join("expected.json")).unwrap())
            .unwrap();
    let printed = &expected["photos"][PHOTO]["fields"];
    let answer = json!({
        "name": printed["name"], "brand": printed["brand"], "manufacturer": printed["manufacturer"],
        "dosage_form": printed["dosage_form"], "strength": printed["strength"],
        "package": printed["package"], "expiry_date": printed["expiry_date"],
        "production_date": printed["production_date"],
    });
    let vision = json!({
        "id": "cmpl-1", "object": "chat.completion", "model": "vision-fake",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": answer.to_string()}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280},
    })
    .to_string();
    let tomorrow = chrono::Local::now().date_naive() + chrono::Days::new(1);
    let tool_call = shared::testing::sse_tool_call(
        "create_event",
        &json!({"title": "看牙医", "start_time": format!("{tomorrow}T15:00:00"),
                "end_time": format!("{tomorrow}T16:00:00")}),
    );
    let text = shared::testing::sse_text(&["好的，", "已经帮你", "记下看牙医。"]);
    let diary = json!({"id": "cmpl-2", "object": "chat.completion", "model": "chat-fake",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
            "content": json!({"summary": "约了明天下午看牙医。", "key_insights": ["记得带医保卡"],
                              "extracted_signals": []}).to_string()}}]})
    .to_string();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (vision, tool_call, text, diary) = (
                vision.clone(),
                tool_call.clone(),
                text.clone(),
                diary.clone(),
            );
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = vec![0u8; 65536];
                let body_at = loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if let Some((at, len)) = shared::testing::request_head(&got)
                        && got.len() >= at + len
                    {
                        break at;
                    }
                };
                let body = String::from_utf8_lossy(&got[body_at..]).into_owned();
                if !body.contains("\"stream\":true") {
                    let answer = if body.contains("\"image_url\"") {
                        vision
                    } else if body.contains("Write the user's diary") {
                        diary
                    } else {
                        String::new()
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        answer.len()
                    );
                    let _ = sock.write_all(format!("{head}{answer}").as_bytes()).await;
                    return;
                }
                let (frames, gap) = if body.contains("\"role\":\"tool\"") {
                    (text, Duration::from_millis(300))
                } else {
                    (tool_call, Duration::ZERO)
                };
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for frame in frames.split_inclusive("\n\n") {
                    let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                    if sock.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                    let _ = sock.flush().await;
                    tokio::time::sleep(gap).await;
                }
                let _ = sock.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    url
}

/// A page as the test sees it: waits on what the page shows, types, clicks, screenshots.
struct Page<'a> {
    client: &'a Client,
    base: &'a str,
    shots: PathBuf,
    label: String,
}

impl Page<'_> {
    /// Polls `script` (a JS expression) until it is truthy; its value.
    async fn until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self
                .client
                .execute(&format!("return ({script});"), vec![])
                .await
                .unwrap();
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                self.shot("timeout").await;
                panic!("[{}] waited 20 s for {what} ({script})", self.label);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(&format!("return ({script});"), vec![])
            .await
            .unwrap()
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.until(&format!("{css} to be clickable"), &format!(
            "(() => {{ const e = document.querySelector({css:?}); return e && !e.disabled && e.offsetParent !== null; }})()"
        ))
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn go(&self, route: &str) {
        self.client
            .goto(&format!("{}/#/{route}", self.base))
            .await
            .unwrap();
        self.until(
            &format!("the {route} view"),
            "document.getElementById('view-title')",
        )
        .await;
    }

    /// Saves a screenshot, and checks the screen shows no value the code failed to fill in.
    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{}-{name}.png", self.label)), png).unwrap();
        let text = self.js("document.body.innerText").await;
        let text = text.as_str().unwrap_or_default();
        for leak in ["null", "undefined", "NaN", "[object Object]"] {
            assert!(
                !text.contains(leak),
                "[{}] {name} shows {leak:?}:\n{text}",
                self.label
            );
        }
        // Every control a keyboard or a screen reader reaches has a name.
        let unnamed = self
            .js("[...document.querySelectorAll('input, select, textarea, button')].filter(e => e.offsetParent !== null && e.type !== 'hidden').filter(e => !(e.getAttribute('aria-label') || (e.labels && e.labels.length && e.labels[0].textContent.trim()) || (e.tagName === 'BUTTON' && e.textContent.trim()))).map(e => e.outerHTML)")
            .await;
        assert_eq!(
            unnamed,
            json!([]),
            "[{}] {name}: controls without a name",
            self.label
        );
        // Nothing wider than the screen (the 390 px phone included).
        let overflow = self
            .js("document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "[{}] {name} scrolls sideways by {overflow} px",
            self.label
        );
    }

    async fn token(&self) -> String {
        self.js("JSON.parse(localStorage.getItem('unilife.session')).access")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn api(stack: &Stack, token: &str, path: &str) -> Value {
    let res = reqwest::Client::new()
        .get(stack.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// Everything the console is for, at one screen size, as a new user.
async fn walk_through(
    stack: &Stack,
    client: &Client,
    label: &str,
    login: &str,
    taken: Option<&str>,
) {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let page = Page {
        client,
        base: &stack.base,
        shots,
        label: label.to_owned(),
    };

    // Sign up; a password the server refuses shows its message and keeps what was typed.
    client.goto(&format!("{}/", stack.base)).await.unwrap();
    page.until("the sign-in page", "document.getElementById('auth-submit')")
        .await;
    page.shot("signin").await;
    page.click("#tab-signup").await;
    // A password too weak: the message is under the password, in Chinese, before any request.
    page.fill("input[name=user_id]", login).await;
    page.fill("input[name=password]", "short").await;
    page.click("#auth-submit").await;
    let error = page
        .until("the password's message", "(() => { const e = document.querySelector('input[name=password]').closest('.field').querySelector('.field-error'); return e && e.textContent; })()")
        .await;
    assert_eq!(error, json!("密码至少 8 位，且包含字母和数字"));
    assert_eq!(
        page.js("document.querySelector('input[name=password]').getAttribute('aria-invalid')")
            .await,
        json!("true")
    );
    page.shot("signup-error").await;
    // A rule only the server knows (the password is the account name): its answer goes next to
    // the field it names.
    page.fill("input[name=user_id]", "samepass1").await;
    page.fill("input[name=password]", "samepass1").await;
    page.click("#auth-submit").await;
    let error = page
        .until("the server's word next to the password", "(() => { const e = document.querySelector('input[name=password]').closest('.field').querySelector('.field-error'); return e && e.textContent.includes('password must not be the same') && e.textContent; })()")
        .await;
    assert!(error.as_str().unwrap().starts_with("输入有误"), "{error}");
    page.fill("input[name=user_id]", login).await;
    // A name someone has (the other screen size's account, made first): the server says so.
    if let Some(taken) = taken {
        page.fill("input[name=user_id]", taken).await;
        page.fill("input[name=password]", PASSWORD).await;
        page.click("#auth-submit").await;
        let error = page
            .until("the server's answer", "(() => { const e = document.querySelector('.error:not([hidden])'); return e && e.textContent; })()")
            .await;
        assert_eq!(error, json!("这个账号名已被注册"));
        page.fill("input[name=user_id]", login).await;
    }
    assert!(
        page.js("document.querySelector('input[name=user_id]').value")
            .await
            == json!(login)
    );
    page.fill("input[name=password]", PASSWORD).await;
    page.click("#auth-submit").await;
    page.until(
        "the menu after sign-up",
        "!document.getElementById('nav').hidden",
    )
    .await;

    // The session survives a reload.
    client.refresh().await.unwrap();
    page.until("the menu after a reload", "document.getElementById('nav') && !document.getElementById('nav').hidden && document.getElementById('view-title')").await;
    page.shot("today-empty").await;

    // An access token that ran out: refreshed without asking (the refresh token rotates).
    let before = page.js("localStorage.getItem('unilife.session')").await;
    page.js("(() => { const s = JSON.parse(localStorage.getItem('unilife.session')); s.access = 'ran-out'; localStorage.setItem('unilife.session', JSON.stringify(s)); return true; })()").await;
    page.go("settings").await;
    page.until(
        "the settings after a silent refresh",
        "document.getElementById('settings-form')",
    )
    .await;
    assert_eq!(
        page.js("document.querySelector('dialog#reauth')").await,
        Value::Null,
        "no sign-in asked"
    );
    let after: Value = serde_json::from_str(
        page.js("localStorage.getItem('unilife.session')")
            .await
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let before: Value = serde_json::from_str(before.as_str().unwrap()).unwrap();
    assert_ne!(
        after["refresh"], before["refresh"],
        "the refresh token rotated"
    );
    assert_ne!(after["access"], "ran-out");

    // Cabinet: the real photo, recognised, checked, corrected and saved.
    page.go("cabinet").await;
    let photo = photos_dir().join(PHOTO).canonicalize().unwrap();
    client
        .find(Locator::Css("#photos"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    page.until(
        "the photo preview",
        "document.querySelector('.preview img')",
    )
    .await;
    page.click("#recognize").await;
    let name = page
        .until("the recognised name", "(() => { const e = document.querySelector('#recognition input[name=name]'); return e && e.value; })()")
        .await;
    assert_eq!(name, json!("碳酸钙D3颗粒(Ⅱ)"));
    let hint = page
        .js("document.querySelector('#recognition input[name=brand]').parentElement.textContent")
        .await;
    assert!(hint.as_str().unwrap().contains("模型识别"), "{hint}");
    page.shot("recognised").await;
    // The box shows no expiry date; the user types it from the flap: in 10 days.
    let expiry = chrono::Local::now().date_naive() + chrono::Days::new(10);
    page.fill("#recognition input[name=quantity]", "12").await;
    page.js(&format!(
        "(() => {{ const e = document.querySelector('#recognition input[name=expiry_date]'); e.value = '{expiry}'; e.dispatchEvent(new Event('input')); return true; }})()"
    ))
    .await;
    page.click("#recognition button[type=submit]").await;
    let status = page
        .until("the saved drug in the list", "(() => { const e = document.querySelector('#drugs .pill[data-status]'); return e && e.dataset.status; })()")
        .await;
    assert_eq!(
        status,
        json!("expiring"),
        "10 days is inside the 30-day warning"
    );
    let listed = page
        .js("document.querySelector('#drugs .drug-name').textContent")
        .await;
    assert_eq!(listed, json!("碳酸钙D3颗粒(Ⅱ)"));
    page.until("the photo in the list", "(() => { const e = document.querySelector('#drugs img.thumb'); return e && e.complete && e.naturalWidth > 0; })()").await;
    page.shot("cabinet").await;
    let token = page.token().await;
    let cabinet = api(stack, &token, "/api/v1/drugs").await;
    assert_eq!(cabinet["total"], 1, "{cabinet}");
    let drug = &cabinet["items"][0];
    assert_eq!(drug["quantity"], 12.0, "{drug}");
    assert_eq!(drug["expiry_date"], json!(expiry.to_string()));
    assert_eq!(
        drug["images"].as_array().unwrap().len(),
        1,
        "the photo is kept"
    );
    // Search, Chinese included.
    page.fill("input[name=q]", "钙诺").await;
    page.until(
        "the search result",
        "document.getElementById('drug-total').textContent.includes('1')",
    )
    .await;

    // Today: a plan with stock; a dose marked taken takes one from the stock.
    page.go("today").await;
    page.click("#new-plan").await;
    page.fill(".plan-form input[name=times]", "08:00").await;
    page.fill(".plan-form input[name=stock]", "10").await;
    page.fill(".plan-form input[name=amount]", "abc").await;
    page.click(".plan-form button[type=submit]").await;
    page.until(
        "the plan's validation error",
        "(() => { const e = document.querySelector('.plan-form input[name=amount]').closest('.field').querySelector('.field-error'); return e && e.textContent === '每次用量应大于 0'; })()",
    )
    .await;
    assert_eq!(
        page.js("document.querySelector('.plan-form input[name=times]').value")
            .await,
        json!("08:00"),
        "the form keeps its input"
    );
    page.fill(".plan-form input[name=amount]", "1").await;
    page.click(".plan-form button[type=submit]").await;
    page.click("#doses [data-action=taken]").await;
    let stock = page
        .until("the stock after taking", "(() => { const e = document.querySelector('#doses .stock'); return e && e.textContent.includes('9') && e.textContent; })()")
        .await;
    assert!(stock.as_str().unwrap().contains("剩余 9"), "{stock}");
    page.until(
        "the adherence after taking",
        "document.getElementById('adherence').textContent.includes('服 1 / 跳 0')",
    )
    .await;
    let doses = api(stack, &token, "/api/v1/doses").await;
    assert_eq!(doses[0]["status"], "taken", "{doses}");
    page.shot("today").await;

    // Assistant: a streamed reply, the event it made, and undo.
    page.go("chat").await;
    page.fill("textarea[name=message]", "明天下午三点去看牙医")
        .await;
    // Every text the reply shows while it streams.
    page.js("(() => { window.seen = []; new MutationObserver(() => { const e = document.querySelector('.msg.assistant.streaming'); if (e) window.seen.push(e.textContent); }).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true}); return true; })()").await;
    page.click("#send").await;
    let reply = page
        .until("the finished reply", "(() => { const e = document.querySelector('.msg.assistant[data-done]'); return e && e.textContent; })()")
        .await;
    assert_eq!(reply, json!("好的，已经帮你记下看牙医。"));
    let seen = page.js("window.seen").await;
    assert!(
        seen.as_array().unwrap().iter().any(|t| t == "好的，"),
        "the first part showed before the rest arrived: {seen}"
    );
    let action = page
        .js("document.querySelector('.action').textContent")
        .await;
    assert!(action.as_str().unwrap().contains("看牙医"), "{action}");
    let tomorrow = chrono::Local::now().date_naive() + chrono::Days::new(1);
    let events_path = format!("/api/v1/events?start_date={tomorrow}&end_date={tomorrow}");
    let events = api(stack, &token, &events_path).await;
    assert_eq!(events["instances"].as_array().unwrap().len(), 1, "{events}");
    page.shot("chat").await;
    page.click("#undo").await;
    page.until("the undo", "document.querySelector('.undone')")
        .await;
    let events = api(stack, &token, &events_path).await;
    assert!(
        events["instances"].as_array().unwrap().is_empty(),
        "{events}"
    );

    // The day's diary, written from its chats when there is none yet.
    let today = chrono::Local::now().date_naive();
    page.js(&format!("(() => {{ const e = document.querySelector('input[name=diary_date]'); e.value = '{today}'; return true; }})()")).await;
    page.click("#diary-button").await;
    page.click("#write-diary").await;
    page.until(
        "the diary",
        "document.getElementById('diary').textContent.includes('约了明天下午看牙医。')",
    )
    .await;

    // Planner: an expired session while typing: sign in again over the page, nothing lost.
    page.go("planner").await;
    page.click("#new-event").await;
    page.fill(".event-form input[name=title]", "复诊").await;
    page.js("(() => { localStorage.setItem('unilife.session', JSON.stringify({access: 'expired', refresh: 'revoked'})); return true; })()").await;
    page.click(".event-form button[type=submit]").await;
    page.until(
        "the sign-in dialog",
        "document.querySelector('dialog#reauth[open]')",
    )
    .await;
    page.shot("reauth").await;
    page.fill("#reauth input[name=user_id]", login).await;
    // By keyboard: Enter in the password field signs in.
    page.fill(
        "#reauth input[name=password]",
        &format!("{PASSWORD}{}", Key::Enter),
    )
    .await;
    page.until(
        "the saved event in the week",
        "[...document.querySelectorAll('#week .event')].some(e => e.textContent.includes('复诊'))",
    )
    .await;
    // A weekly routine: its day shows this week and the next.
    page.click("#new-event").await;
    page.fill(".event-form input[name=title]", "游泳").await;
    client
        .find(Locator::Css(".event-form select[name=repeat]"))
        .await
        .unwrap()
        .select_by_value("weekly")
        .await
        .unwrap();
    page.click(".event-form button[type=submit]").await;
    let swim = "[...document.querySelectorAll('#week .event')].filter(e => e.textContent.includes('游泳')).length";
    page.until("the routine's day this week", &format!("{swim} === 1"))
        .await;
    page.shot("planner").await;
    page.click("#next-week").await;
    page.until(
        "the routine's day next week",
        &format!("{swim} === 1 && !document.getElementById('week').textContent.includes('复诊')"),
    )
    .await;

    // Inbox: a channel whose address is refused says why and keeps it; a good one is listed.
    page.go("inbox").await;
    page.fill("input[name=url]", "ftp://example.com/hook").await;
    page.click("#add-channel").await;
    page.until(
        "the channel's error",
        "(() => { const e = document.querySelector('#channel-form .field-error'); return e && e.textContent === '请填写以 https:// 或 http:// 开头的地址'; })()",
    )
    .await;
    assert_eq!(
        page.js("document.querySelector('input[name=url]').value")
            .await,
        json!("ftp://example.com/hook")
    );
    page.fill("input[name=url]", "https://hooks.example.com/unilife")
        .await;
    page.click("#add-channel").await;
    page.until(
        "the channel in the list",
        "document.getElementById('channels').textContent.includes('hooks.example.com')",
    )
    .await;
    // A Bark channel (the stack's Bark server is a local fake): its key hidden in the list,
    // and a test message that reaches it.
    client
        .find(Locator::Css("#channel-form select[name=channel]"))
        .await
        .unwrap()
        .select_by_value("bark")
        .await
        .unwrap();
    page.fill("#channel-form input[name=url]", "bark://WebConsoleKey1")
        .await;
    page.fill("#channel-form input[name=name]", "我的 iPhone")
        .await;
    page.click("#add-channel").await;
    let bark = "[...document.querySelectorAll('#channels li')].find(l => l.textContent.includes('我的 iPhone'))";
    page.until(
        "the Bark channel, its key hidden",
        &format!("(() => {{ const l = {bark}; return l && l.textContent.includes('bark://WebC…') && !l.textContent.includes('WebConsoleKey1'); }})()"),
    )
    .await;
    page.js(&format!("{bark}.querySelector('button').click()"))
        .await;
    page.until(
        "the test message delivered",
        &format!("{bark}.textContent.includes('测试消息已送达（200')"),
    )
    .await;
    page.shot("inbox").await;

    // Settings: English is one choice away, errors included.
    page.go("settings").await;
    page.shot("settings").await;
    client
        .find(Locator::Css("select[name=language]"))
        .await
        .unwrap()
        .select_by_value("en")
        .await
        .unwrap();
    page.click("#settings-form button[type=submit]").await;
    page.until(
        "the English menu",
        "document.getElementById('nav-cabinet').textContent === 'Cabinet'",
    )
    .await;
    let me = api(stack, &page.token().await, "/api/v1/users/me").await;
    assert_eq!(
        me["preferences"]["language"], "en",
        "the language follows the account"
    );
    page.go("cabinet").await;
    page.click("#recognize").await;
    let error = page
        .until("the English error", "(() => { const e = document.querySelector('.error:not([hidden])'); return e && e.textContent; })()")
        .await;
    assert_eq!(error, json!("Choose at least one photo"));
    // Delete the medicine; the cabinet says it is empty.
    page.click("#drugs li button.secondary").await;
    page.js("(() => { window.confirm = () => true; return true; })()")
        .await;
    page.click("#drugs li button.danger").await;
    page.until(
        "the empty cabinet",
        "document.getElementById('drug-total').textContent === '0 medicines'",
    )
    .await;
    page.shot("cabinet-en").await;
    let cabinet = api(stack, &page.token().await, "/api/v1/drugs").await;
    assert_eq!(cabinet["total"], 0, "{cabinet}");

    // Sign out, then in with Apple: to Apple's page and back with the identity token.
    page.go("settings").await;
    page.click("#sign-out").await;
    page.until("the sign-in page", "document.getElementById('auth-submit')")
        .await;
    page.click("#apple-sign-in").await;
    page.until("the menu after Sign in with Apple", "document.getElementById('nav') && !document.getElementById('nav').hidden && location.hash === '#/today'").await;
    let me = api(stack, &page.token().await, "/api/v1/users/me").await;
    assert_eq!(me["user_id"], apple::SUB, "{me}");
    assert!(
        !page
            .js("location.href")
            .await
            .as_str()
            .unwrap()
            .contains("id_token"),
        "the token leaves the address bar"
    );
}

/// Bark's push API as it answers a good push.
async fn bark_server() -> wiremock::MockServer {
    use wiremock::matchers::{body_partial_json, method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/push"))
        .and(body_partial_json(json!({"device_key": "WebConsoleKey1"})))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"code": 200, "message": "success"})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_web_console_works_in_a_real_browser_on_a_phone_and_a_laptop() {
    shared::install_crypto_provider();
    let model = fake_model().await;
    let apple = apple::start().await;
    let bark = bark_server().await;
    let stack = Stack::start(&[
        ("APP__SCHEDULER__BARK_ENDPOINT", bark.uri()),
        ("DEEPSEEK_BASE_URL", model.clone()),
        ("DEEPSEEK_API_KEY", "test-key".into()),
        ("API_BASE_URL", model),
        ("API_KEY", "test-key".into()),
        ("APP__APPLE__WEB_SERVICE_ID", apple::SERVICE_ID.into()),
        (
            "APP__APPLE__AUTHORIZE_URL",
            format!("{}/auth/authorize", apple.uri()),
        ),
        ("APP__APPLE__JWKS_URL", format!("{}/auth/keys", apple.uri())),
    ]);
    let driver = Driver::start();
    for (label, width, height, taken) in
        [("390", 390, 844, None), ("1280", 1280, 900, Some("web390"))]
    {
        let client = driver.browser(width, height).await;
        walk_through(&stack, &client, label, &format!("web{label}"), taken).await;
        client.close().await.unwrap();
    }
    let log = stack.log();
    assert!(
        !log.iter()
            .any(|l| l.contains("panicked") || l.contains(" ERROR ")),
        "{log:#?}"
    );
}

/// Apple's side of Sign in with Apple on the web: the authorize page (which, instead of asking
/// the person, checks what the console sent and sends the browser back with an identity token
/// in the fragment, as Apple does with `response_mode=fragment`) and the keys that token is
/// signed with.
mod apple {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    pub const SERVICE_ID: &str = "com.example.unilife.web";
    pub const SUB: &str = "001234.web0console.0001";

    struct Authorize {
        private_der: Vec<u8>,
    }

    impl Respond for Authorize {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let q: std::collections::HashMap<String, String> =
                req.url.query_pairs().into_owned().collect();
            let ok = q.get("client_id").map(String::as_str) == Some(SERVICE_ID)
                && q.get("response_type").map(String::as_str) == Some("code id_token")
                && q.get("response_mode").map(String::as_str) == Some("fragment")
                && q.get("state").is_some_and(|s| s.len() >= 16)
                && q.get("nonce").is_some_and(|s| s.len() >= 16)
                && q.get("redirect_uri").is_some_and(|u| u.starts_with("http"));
            if !ok {
                return ResponseTemplate::new(400)
                    .set_body_string(format!("invalid_request {q:?}"));
            }
            let now = chrono::Utc::now().timestamp();
            let claims = json!({"iss": "https://appleid.apple.com", "aud": SERVICE_ID,
                "exp": now + 600, "iat": now, "sub": SUB, "nonce": q["nonce"],
                "nonce_supported": true, "auth_time": now});
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.kid = Some("web-key".into());
            let token = jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_rsa_der(&self.private_der),
            )
            .unwrap();
            let back = format!(
                "{}#state={}&code=c0de&id_token={token}",
                q["redirect_uri"], q["state"]
            );
            ResponseTemplate::new(302).insert_header("location", back.as_str())
        }
    }

    /// Apple's two endpoints on a local server; its URL.
    pub async fn start() -> MockServer {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let public = private.to_public_key();
        let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/auth/keys"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [{
                "kty": "RSA", "kid": "web-key", "use": "sig", "alg": "RS256",
                "n": b64(public.n()), "e": b64(public.e())}]})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/auth/authorize"))
            .respond_with(Authorize {
                private_der: private.to_pkcs1_der().unwrap().as_bytes().to_vec(),
            })
            .mount(&server)
            .await;
        server
    }
}

/// A DevTools protocol command through chromedriver (`goog/cdp/execute`).
async fn devtools(driver: &Driver, client: &Client, cmd: &str, params: Value) -> Value {
    let session = client.session_id().await.unwrap().unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/session/{session}/goog/cdp/execute", driver.url))
        .json(&json!({"cmd": cmd, "params": params}))
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

/// Web Push in the console: the button subscribes (or, with no push service in reach, says so
/// rather than hang), the service worker is installed, and a push as the browser's push
/// service hands it over (the DevTools protocol stands in for Google's) becomes a notification
/// with the server's title and text.
#[tokio::test]
async fn the_console_shows_what_the_server_pushes_to_this_browser() {
    shared::install_crypto_provider();
    let (private, _) = svc_scheduler::webpush::generate();
    let stack = Stack::start(&[
        ("APP__SCHEDULER__VAPID_PRIVATE_KEY", private),
        (
            "APP__SCHEDULER__VAPID_SUBJECT",
            "mailto:ops@unilife.example".into(),
        ),
    ]);
    let http = reqwest::Client::new();
    let session: Value = http
        .post(stack.url("/api/v1/auth/register"))
        .json(&json!({"user_id": "webpush-user", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let driver = Driver::start();
    let client = driver.browser(1280, 900).await;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let page = Page {
        client: &client,
        base: &stack.base,
        shots,
        label: "webpush".to_owned(),
    };
    client.goto(&format!("{}/", stack.base)).await.unwrap();
    page.js(&format!(
        "(localStorage.setItem('unilife.session', JSON.stringify({{access: {}, refresh: {}, user: {}}})), true)",
        session["access_token"], session["refresh_token"], session["user_id"]
    ))
    .await;
    page.go("inbox").await;
    let granted = devtools(
        &driver,
        &client,
        "Browser.grantPermissions",
        json!({"permissions": ["notifications"], "origin": stack.base}),
    )
    .await;
    assert!(granted["value"].get("error").is_none(), "{granted}");
    page.click("#webpush-enable").await;
    let outcome = page
        .until(
            "the subscription's outcome",
            "document.getElementById('webpush-status').textContent",
        )
        .await;
    let outcome = outcome.as_str().unwrap();
    assert!(
        outcome.starts_with("无法订阅：") || outcome == "这个浏览器会收到通知了。",
        "{outcome}"
    );
    page.shot("webpush").await;
    page.until(
        "the service worker running",
        "window.__sw === 'activated' || (navigator.serviceWorker.getRegistration('/assets/').then(r => { window.__sw = r && r.active && r.active.state; }), false)",
    )
    .await;
    // The push service hands over a message (decrypted, as the browser does).
    let message = json!({"id": "n-1", "kind": "dose_reminder", "title": "该吃药了：阿司匹林肠溶片", "body": "08:00 服用 1 片"});
    // The registration's id is the browser's own counter, which the commands cannot read: the
    // message goes to each of the first ids (one that is not a registration is refused or
    // dropped; a loaded machine may have counted a few before ours), and the page must show it
    // once, with its tag.
    let enabled = devtools(&driver, &client, "ServiceWorker.enable", json!({})).await;
    assert!(enabled["value"].get("error").is_none(), "{enabled}");
    let mut delivered = Vec::new();
    for id in 0..32 {
        let answer = devtools(
            &driver,
            &client,
            "ServiceWorker.deliverPushMessage",
            json!({"origin": format!("{}/", stack.base), "registrationId": id.to_string(), "data": message.to_string()}),
        )
        .await;
        if answer["value"].get("error").is_none() {
            delivered.push(id);
        }
    }
    assert!(
        !delivered.is_empty(),
        "no service worker registration took the push"
    );
    let shown = page
        .until(
            "the notification",
            "window.__shown || (navigator.serviceWorker.getRegistration('/assets/').then(r => r.getNotifications()).then(ns => { window.__shown = ns.map(n => `${n.title}|${n.body}|${n.tag}`).join(';'); }), false)",
        )
        .await;
    assert_eq!(shown, json!("该吃药了：阿司匹林肠溶片|08:00 服用 1 片|n-1"));
    client.close().await.unwrap();
}
