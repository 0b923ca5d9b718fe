//! The memory retrieval evaluation (#24): 60 days of synthetic Chinese conversations with a
//! user who tells about 120 facts (a few of them change later), consolidated night by night
//! through the real nightly route — the fake model extracts exactly what was said, so what is
//! measured is what the memory keeps and what a prompt is given — then 130 questions, each a
//! chat turn whose system prompt is checked: the facts it needs are there (recall), a fact
//! that was replaced is not, and the memory part stays within its budget. Prints the scores.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use shared::entities::diary;
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::helpers::*;

/// One fact: its kind, its text, the day it is told (1–60), the questions that need it, and
/// optionally the day it changes and its new text.
struct Fact {
    kind: &'static str,
    text: String,
    day: i64,
    questions: Vec<String>,
    changes: Option<(i64, String)>,
}

fn fact(kind: &'static str, text: &str, day: i64, questions: &[&str]) -> Fact {
    Fact {
        kind,
        text: text.to_owned(),
        day,
        questions: questions.iter().map(|q| (*q).to_owned()).collect(),
        changes: None,
    }
}

fn facts() -> Vec<Fact> {
    let mut all = vec![
        fact(
            "health",
            "对青霉素过敏",
            2,
            &[
                "我嗓子发炎了，医生要开青霉素类的药，可以吗",
                "我对什么药过敏来着",
            ],
        ),
        fact(
            "health",
            "有高血压，在吃氨氯地平",
            5,
            &["我的血压药叫什么", "我血压高要注意什么"],
        ),
        fact(
            "health",
            "乳糖不耐受，喝牛奶会肚子疼",
            8,
            &["早餐喝牛奶行吗", "我能喝拿铁吗，里面有牛奶"],
        ),
        fact(
            "health",
            "花粉过敏，春天容易打喷嚏",
            11,
            &["春天去公园赏花要注意什么", "我是不是花粉过敏"],
        ),
        fact(
            "health",
            "膝盖做过手术，不能跑长距离",
            14,
            &["我能报名半程马拉松吗", "我的膝盖怎么了"],
        ),
        fact(
            "person",
            "妹妹叫小雨，在杭州读大学",
            3,
            &["我妹妹叫什么", "小雨在哪里读书"],
        ),
        fact(
            "person",
            "同事老王是项目经理",
            6,
            &["老王是做什么的", "项目上的事找谁"],
        ),
        fact(
            "person",
            "儿子叫豆豆，今年五岁",
            9,
            &["豆豆几岁了", "我儿子叫什么名字"],
        ),
        fact(
            "person",
            "妈妈住在成都，每周日视频通话",
            12,
            &["我妈妈住哪", "什么时候和妈妈视频"],
        ),
        fact(
            "person",
            "好朋友阿杰在深圳做设计师",
            15,
            &["阿杰是做什么的", "我在深圳有朋友吗"],
        ),
        fact(
            "person",
            "老板姓陈，要求周报周五交",
            18,
            &["周报什么时候交", "我老板姓什么"],
        ),
        fact(
            "person",
            "岳父生日是农历八月十五",
            21,
            &["岳父生日是哪天", "农历八月十五有什么事"],
        ),
        fact(
            "preference",
            "喜欢喝美式咖啡，不加糖",
            4,
            &["帮我点杯咖啡，我喝什么", "我喝咖啡加糖吗"],
        ),
        fact(
            "preference",
            "不吃香菜",
            7,
            &["点外卖要备注什么", "我吃香菜吗"],
        ),
        fact(
            "preference",
            "喜欢看科幻电影",
            10,
            &["周末看什么电影好", "推荐一部我会喜欢的电影"],
        ),
        fact(
            "preference",
            "周末喜欢去爬山",
            13,
            &["这个周末做什么好", "我周末一般干嘛"],
        ),
        fact(
            "preference",
            "讨厌早上开会",
            16,
            &["会议安排在早上九点可以吗", "我喜欢什么时候开会"],
        ),
        fact(
            "preference",
            "睡前喜欢听播客",
            19,
            &["睡不着怎么办", "我睡前一般做什么"],
        ),
        fact(
            "routine",
            "每天早上七点起床",
            17,
            &["我一般几点起床", "明天早上七点叫我"],
        ),
        fact(
            "routine",
            "每周三晚上打羽毛球",
            20,
            &["周三晚上有空吗", "我什么时候打羽毛球"],
        ),
        fact(
            "routine",
            "每天晚上十一点睡觉",
            22,
            &["我一般几点睡觉", "晚上十一点后的安排"],
        ),
        fact(
            "routine",
            "周日下午去超市采购",
            23,
            &["周日下午有什么安排", "什么时候去超市"],
        ),
        fact(
            "routine",
            "每月一号交房租",
            24,
            &["房租什么时候交", "每月一号要做什么"],
        ),
        fact(
            "place",
            "在滨江的公司上班",
            26,
            &["我在哪里上班", "去公司要多久"],
        ),
        fact("place", "老家在西安", 27, &["我老家在哪", "过年回西安吗"]),
        fact(
            "place",
            "常去的健身房在小区门口",
            28,
            &["健身房在哪", "去健身房要多久"],
        ),
        fact(
            "other",
            "养了一只橘猫叫胖虎",
            29,
            &["我的猫叫什么", "胖虎是谁"],
        ),
        fact(
            "other",
            "车牌号是浙A12345",
            31,
            &["我的车牌号是多少", "停车登记要车牌"],
        ),
        fact(
            "other",
            "在学日语，准备考N2",
            32,
            &["我在学什么语言", "日语考试什么时候"],
        ),
        fact(
            "other",
            "开的是一辆白色的特斯拉",
            33,
            &["我开什么车", "我的车是什么颜色"],
        ),
    ];
    // Facts that change: the old text must leave every prompt once the new one is kept.
    let mut changing = vec![
        (
            fact(
                "health",
                "阿司匹林每天吃100mg",
                25,
                &["阿司匹林我现在每天吃多少", "我的阿司匹林剂量"],
            ),
            40,
            "阿司匹林改成每天吃50mg",
        ),
        (
            fact(
                "place",
                "住在杭州西湖区",
                1,
                &["我现在住在哪", "我家在哪个城市"],
            ),
            30,
            "搬家了，现在住在上海徐汇区",
        ),
        (
            fact(
                "person",
                "女朋友叫小美",
                34,
                &["我女朋友叫什么", "小美是谁"],
            ),
            50,
            "和小美结婚了，小美现在是妻子",
        ),
        (
            fact(
                "routine",
                "每天晚上九点遛狗",
                35,
                &["我几点遛狗", "晚上九点要做什么"],
            ),
            45,
            "遛狗改到早上六点半",
        ),
    ];
    for (mut f, day, new) in changing.drain(..) {
        f.changes = Some((day, new.to_owned()));
        all.push(f);
    }
    // Many small facts, so the memory outgrows its budget and a prompt must choose.
    let cities = [
        "厦门",
        "青岛",
        "大理",
        "桂林",
        "哈尔滨",
        "三亚",
        "丽江",
        "苏州",
        "南京",
        "武汉",
        "长沙",
        "昆明",
        "拉萨",
        "敦煌",
        "洛阳",
        "黄山",
        "张家界",
        "九寨沟",
        "泉州",
        "景德镇",
        "乌镇",
        "呼伦贝尔",
        "喀什",
        "潮州",
        "婺源",
    ];
    for (i, c) in cities.iter().enumerate() {
        let day = 36 + (i as i64 % 24);
        let q = format!("我去过{c}吗");
        all.push(fact(
            "other",
            &format!("去年去过{c}旅行"),
            day,
            &[q.as_str()],
        ));
    }
    let foods = [
        "火锅",
        "北京烤鸭",
        "小笼包",
        "螺蛳粉",
        "肠粉",
        "麻辣烫",
        "煎饼果子",
        "热干面",
        "羊肉泡馍",
        "兰州拉面",
        "酸菜鱼",
        "烤冷面",
        "生煎",
        "臭豆腐",
        "糖醋排骨",
        "红烧肉",
        "麻婆豆腐",
        "担担面",
        "叉烧包",
        "牛肉粉",
    ];
    for (i, f) in foods.iter().enumerate() {
        let day = 2 + (i as i64 * 3 % 58);
        let q = format!("我爱吃{f}吗");
        all.push(fact(
            "preference",
            &format!("很爱吃{f}"),
            day,
            &[q.as_str()],
        ));
    }
    let books = [
        "三体",
        "活着",
        "百年孤独",
        "围城",
        "红楼梦",
        "平凡的世界",
        "人类简史",
        "乡土中国",
        "挪威的森林",
        "白夜行",
        "小王子",
        "解忧杂货店",
        "追风筝的人",
        "月亮与六便士",
        "边城",
        "呐喊",
        "骆驼祥子",
        "老人与海",
        "局外人",
        "嫌疑人X的献身",
    ];
    for (i, b) in books.iter().enumerate() {
        let day = 4 + (i as i64 * 7 % 56);
        let q = format!("我读过《{b}》吗");
        all.push(fact("other", &format!("读过《{b}》"), day, &[q.as_str()]));
    }
    all
}

const START: &str = "2026-09-01";

fn date_of(day: i64) -> NaiveDate {
    START.parse::<NaiveDate>().unwrap() + Duration::days(day - 1)
}

/// The fake model's nightly extraction: exactly what the ground truth says was told that day;
/// a change supersedes the kept fact, found by its text in the request.
struct Extractor(Arc<Told>);

/// What is told each day: (kind, text, the text it replaces).
type Told = HashMap<NaiveDate, Vec<(String, String, Option<String>)>>;

impl Respond for Extractor {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let asked = body["messages"][1]["content"].as_str().unwrap();
        let date: NaiveDate = asked
            .split("Messages of ")
            .nth(1)
            .and_then(|r| r.get(..10))
            .and_then(|d| d.parse().ok())
            .unwrap();
        let kept: Vec<(&str, &str)> = asked
            .split("Facts kept:\n")
            .nth(1)
            .unwrap_or_default()
            .split("\n\nMessages of")
            .next()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (id, rest) = l.split_once(" (")?;
                let (_, text) = rest.split_once("): ")?;
                Some((id, text))
            })
            .collect();
        let mut ops = Vec::new();
        for (kind, text, old) in self.0.get(&date).into_iter().flatten() {
            match old {
                Some(old) => {
                    let id = kept
                        .iter()
                        .find(|(_, t)| t == old)
                        .map(|(id, _)| *id)
                        .unwrap();
                    ops.push(json!({"op": "supersede", "id": id, "content": text, "kind": kind}));
                }
                None => {
                    ops.push(json!({"op": "add", "kind": kind, "content": text, "confidence": 0.9}))
                }
            }
        }
        let content = json!({"operations": ops}).to_string();
        ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
            "model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1}
        }))
    }
}

#[tokio::test]
async fn memory_retrieval_evaluation() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let facts = facts();
    // Night by night: what was told each day, and the day's diary.
    let mut by_day = Told::new();
    for f in &facts {
        by_day
            .entry(date_of(f.day))
            .or_default()
            .push((f.kind.to_owned(), f.text.clone(), None));
        if let Some((day, new)) = &f.changes {
            by_day.entry(date_of(*day)).or_default().push((
                f.kind.to_owned(),
                new.clone(),
                Some(f.text.clone()),
            ));
        }
    }
    let by_day = Arc::new(by_day);
    Mock::given(method("POST"))
        .and(body_string_contains("long-term memory"))
        .respond_with(Extractor(Arc::clone(&by_day)))
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["好的"])))
        .mount(&app.model)
        .await;
    for day in 1..=60 {
        let date = date_of(day);
        // 10:00 in Shanghai: small talk, then what is told that day.
        let at = |minute: i64| {
            (date.and_hms_opt(2, 0, 0).unwrap().and_utc() + Duration::minutes(minute)).to_rfc3339()
        };
        shared::testing::insert_user_message(
            &app.db,
            user,
            at(0).parse().unwrap(),
            "今天有点累，帮我看看明天的安排",
        )
        .await
        .unwrap();
        for (i, (_, text, _)) in by_day.get(&date).into_iter().flatten().enumerate() {
            shared::testing::insert_user_message(
                &app.db,
                user,
                at(i as i64 + 1).parse().unwrap(),
                &format!("对了，{text}"),
            )
            .await
            .unwrap();
        }
        let res = app
            .req(Method::POST, None, "/internal/profiles/daily")
            .json(&json!({"user_id": user, "date": date}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["memory"]["status"], "done", "{date}: {body}");
        assert_eq!(body["memory"]["ignored"], 0, "{date}: {body}");
        diary::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user),
            diary_date: Set(date),
            summary: Set(format!(
                "第{day}天的日记：上午开了会，下午写了第{day}号报告。"
            )),
            key_insights: Set(json!([])),
            extracted_signals: Set(json!([])),
            conversation_count: Set(1),
            message_count: Set(2),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }

    // Questions on the morning of day 61, each in a new conversation.
    let now = format!("{} 09:00:00", date_of(61));
    let mut questions: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for f in &facts {
        let (needed, replaced) = match &f.changes {
            Some((_, new)) => (new.clone(), vec![f.text.clone()]),
            None => (f.text.clone(), vec![]),
        };
        for q in &f.questions {
            questions.push((q.clone(), vec![needed.clone()], replaced.clone()));
        }
    }
    // Days spoken of: their diary is needed.
    for (q, day) in [
        ("昨天我干了什么", 60),
        ("前天开会了吗", 59),
        // Day 61 is Saturday 31 October: last week's Wednesday is the 21st, day 51.
        ("上周三我在忙什么", 51),
        ("3天前写了哪份报告", 58),
        ("10月15日那天怎么样", 45),
        ("9月5日我做了什么", 5),
    ] {
        questions.push((q.to_owned(), vec![format!("写了第{day}号报告")], vec![]));
    }
    // Never told: nothing is needed, and nothing replaced may appear.
    for q in [
        "我的血型是什么",
        "我养过狗吗",
        "我会弹钢琴吗",
        "我的生日是哪天",
        "我有几个孩子",
    ] {
        questions.push((q.to_owned(), vec![], vec!["阿司匹林每天吃100mg".to_owned()]));
    }
    assert!(questions.len() >= 120, "{} questions", questions.len());

    let (mut found, mut needed_total, mut leaks, mut max_tokens, mut sum_tokens) = (0, 0, 0, 0, 0);
    let (mut injected, mut stale) = (0usize, 0usize);
    let replaced_texts: Vec<&str> = facts
        .iter()
        .filter(|f| f.changes.is_some())
        .map(|f| f.text.as_str())
        .collect();
    let mut misses = Vec::new();
    for (q, needed, replaced) in &questions {
        app.model.reset().await;
        Mock::given(method("POST"))
            .respond_with(sse_response(sse_text(&["好的"])))
            .mount(&app.model)
            .await;
        let res = app
            .chat(user, json!({"message": q, "current_time": now}))
            .await;
        assert_eq!(res.status(), 200);
        let calls = app.model.received_requests().await.unwrap();
        assert_eq!(calls.len(), 1, "no extra model call for memory");
        let sent: Value = serde_json::from_slice(&calls[0].body).unwrap();
        let system = sent["messages"][0]["content"].as_str().unwrap();
        let memory = system
            .split_once("\nWhat you remember")
            .map_or("", |(_, m)| m);
        let memory_tokens = svc_chat::engine::estimate_tokens(memory);
        // Every fact line injected, and those that are no longer true.
        for line in memory
            .lines()
            .filter(|l| l.starts_with("- [") && l.contains(") "))
        {
            injected += 1;
            if replaced_texts.iter().any(|r| line.ends_with(r)) {
                stale += 1;
            }
        }
        max_tokens = max_tokens.max(memory_tokens);
        sum_tokens += memory_tokens;
        for n in needed {
            needed_total += 1;
            if system.contains(n.as_str()) {
                found += 1;
            } else {
                misses.push(format!("{q} → {n}"));
            }
        }
        leaks += replaced
            .iter()
            .filter(|r| system.contains(r.as_str()))
            .count();
    }
    let recall = f64::from(found) / f64::from(needed_total);
    // Precision of what is injected: the share of injected facts that are still true (the
    // budget is filled with the most relevant facts by design, so "needed" is not the measure).
    let precision = 1.0 - stale as f64 / injected.max(1) as f64;
    println!(
        "memory retrieval: {} questions, {} facts kept over 60 days; recall {recall:.3} ({found}/{needed_total}); precision {precision:.3} ({stale} replaced among {injected} facts injected, {} a prompt); replaced facts shown {leaks}; memory tokens per prompt: mean {}, max {max_tokens} (budget 1500)",
        questions.len(),
        facts.len(),
        injected / questions.len(),
        sum_tokens / questions.len(),
    );
    if !misses.is_empty() {
        println!("missed: {misses:?}");
    }
    assert!(recall >= 0.95, "recall {recall:.3}: {misses:?}");
    assert_eq!(leaks, 0, "a replaced fact reached a prompt");
    assert_eq!(stale, 0, "a replaced fact was injected");
    assert!(injected > 0);
    assert!(max_tokens <= 1_500, "{max_tokens} memory tokens");
}
