//! Safety checks (`GET /api/v1/drugs/checks`, and the `checks` of a drug or plan just added)
//! and codes on the box (`POST /api/v1/drugs/codes`, a GS1 DataMatrix on a photo).

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::drug;

use crate::helpers::*;

/// `POST /api/v1/drugs/codes` as `user`.
async fn scan(app: &TestApp, user: uuid::Uuid, body: Value) -> reqwest::Response {
    app.post(user, "/api/v1/drugs/codes")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn drugs_of(app: &TestApp, user: uuid::Uuid) -> u64 {
    drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cabinet_check_finds_interactions_and_duplicates_and_never_says_safe() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;

    // An empty cabinet: nothing to check, said so.
    let empty: Value = app.get_as(user, "/api/v1/drugs/checks").await;
    assert_eq!(empty["checked"], 0);
    assert!(empty["summary_zh"].as_str().unwrap().contains("没有可检查"));
    assert_eq!(empty["table"]["version"], "2026-12-07");

    // The first drug: nothing to find, and that is not "safe".
    let warfarin = app.add_drug(user, json!({"name": "华法林钠片"})).await;
    let checks = &warfarin["checks"];
    assert_eq!(checks["interactions"], json!([]));
    assert_eq!(checks["drugs"][0]["status"], "no_known_interaction");
    assert_eq!(checks["drugs"][0]["ingredients"][0]["id"], "warfarin");
    assert!(
        checks["summary_en"]
            .as_str()
            .unwrap()
            .contains("does not mean the combination is safe")
    );

    // Adding ibuprofen: the answer warns at once, about the new drug.
    let ibuprofen = app
        .add_drug(user, json!({"name": "布洛芬缓释胶囊", "brand": "芬必得"}))
        .await;
    let found = &ibuprofen["checks"]["interactions"];
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["severity"], "major");
    assert_eq!(found[0]["drugs"][0]["id"], warfarin["id"]);
    assert_eq!(found[0]["drugs"][1]["id"], ibuprofen["id"]);
    assert!(found[0]["zh"].as_str().unwrap().contains("出血"));
    assert!(found[0]["source"].as_str().unwrap().contains("FDA"));
    // Still the drug as before, with its fields at the top level.
    assert_eq!(ibuprofen["name"], "布洛芬缓释胶囊");

    // Two products with paracetamol, and a drug the table does not know.
    app.add_drug(user, json!({"name": "对乙酰氨基酚片"})).await;
    app.add_drug(
        user,
        json!({"name": "感冒药", "generic_name": "复方氨酚烷胺胶囊"}),
    )
    .await;
    let herbal = app.add_drug(user, json!({"name": "板蓝根颗粒"})).await;
    assert_eq!(herbal["checks"]["drugs"][0]["status"], "not_in_table");
    assert!(
        herbal["checks"]["summary_zh"]
            .as_str()
            .unwrap()
            .contains("不在我们的相互作用表中")
    );

    let before = drugs_of(&app, user).await;
    let all: Value = app.get_as(user, "/api/v1/drugs/checks").await;
    assert_eq!(all["checked"], 5);
    let severities: Vec<&str> = all["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .collect();
    // Worst first: warfarin–ibuprofen, then warfarin with each paracetamol product.
    assert_eq!(severities, ["major", "moderate", "moderate"]);
    assert_eq!(all["duplicates"].as_array().unwrap().len(), 1);
    assert_eq!(all["duplicates"][0]["ingredient"]["id"], "paracetamol");
    assert_eq!(all["duplicates"][0]["drugs"].as_array().unwrap().len(), 2);
    assert!(
        all["summary_zh"]
            .as_str()
            .unwrap()
            .contains("另有 1 种药品")
    );
    assert!(!all.to_string().contains("安全。"));
    // A check writes nothing.
    assert_eq!(drugs_of(&app, user).await, before);

    // A plan for ibuprofen: its answer carries the checks about ibuprofen.
    let res = app
        .post(user, "/api/v1/medications")
        .json(&json!({
            "drug_id": ibuprofen["id"], "dose": {"amount": 1, "unit": "粒"},
            "schedule": {"times": ["08:00"], "start_date": "2026-12-07"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let plan: Value = res.json().await.unwrap();
    assert_eq!(plan["drug_id"], ibuprofen["id"]);
    assert_eq!(plan["checks"]["interactions"][0]["severity"], "major");

    // Another person's cabinet is not mixed in.
    let stranger = app.user("Asia/Shanghai").await;
    let theirs: Value = app.get_as(stranger, "/api/v1/drugs/checks").await;
    assert_eq!(theirs["checked"], 0);
    let res = app
        .get(stranger, "/api/v1/drugs/checks?x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // At the pharmacy: what a medicine not in the cabinet would meet there; nothing written.
    let before = drugs_of(&app, user).await;
    let at_the_pharmacy: Value = app
        .get_as(user, "/api/v1/drugs/checks?with=%E9%98%BF%E5%8F%B8%E5%8C%B9%E6%9E%97%E8%82%A0%E6%BA%B6%E7%89%87")
        .await;
    assert_eq!(at_the_pharmacy["drugs"].as_array().unwrap().len(), 1);
    assert_eq!(
        at_the_pharmacy["drugs"][0]["ingredients"][0]["id"],
        "aspirin"
    );
    assert_eq!(at_the_pharmacy["interactions"][0]["severity"], "major");
    assert_eq!(
        at_the_pharmacy["interactions"][0]["drugs"][0]["id"],
        warfarin["id"]
    );
    assert_eq!(drugs_of(&app, user).await, before);
    for bad in ["?with=", "?with=%20%20"] {
        let res = app
            .get(user, &format!("/api/v1/drugs/checks{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// One of the real photos with a DataMatrix of `text` printed on it (24 px a module, in the
/// middle), as a JPEG.
fn datamatrix_on(photo_name: &str, text: &str) -> Vec<u8> {
    use rxing::{BarcodeFormat, MultiFormatWriter, Writer};
    let matrix = MultiFormatWriter
        .encode(text, &BarcodeFormat::DATA_MATRIX, 0, 0)
        .unwrap();
    let module = 24u32;
    let mut img = image::load_from_memory(&photo(photo_name))
        .unwrap()
        .to_rgb8();
    let (w, h) = (matrix.width() * module, matrix.height() * module);
    let quiet = 4 * module;
    let (x0, y0) = ((img.width() - w) / 2, (img.height() - h) / 2);
    for y in y0 - quiet..y0 + h + quiet {
        for x in x0 - quiet..x0 + w + quiet {
            let ink = x >= x0
                && y >= y0
                && (x - x0) / module < matrix.width()
                && (y - y0) / module < matrix.height()
                && matrix.get((x - x0) / module, (y - y0) / module);
            img.put_pixel(x, y, image::Rgb(if ink { [20; 3] } else { [240; 3] }));
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_scanned_code_fills_batch_and_expiry_without_the_model_and_a_box_is_added_once() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;

    // Bad codes: said clearly, nothing written.
    for (code, expect) in [
        ("(01)06950715599359(17)271031", "校验位"),
        ("6950715599350", "check digit"),
        ("(01)06950715599358(17)271340", "not a valid date"),
        ("71234560012345678901", "traceability"),
        ("hello", "Not a code we read"),
        ("", "empty"),
    ] {
        let res = scan(&app, user, json!({"code": code, "save": true})).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{code}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "invalid_code", "{code}");
        assert!(body["message"].as_str().unwrap().contains(expect), "{body}");
    }
    let res = scan(
        &app,
        user,
        json!({"code": "6950715599358", "colour": "red"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A product the catalogue does not know yet: read, not saved (the model never guesses).
    let gs1 = "(01)06950715599358(17)271031(10)P472410001(21)BOX0001";
    let res = scan(&app, user, json!({"code": gs1})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["code"]["kind"], "gs1");
    assert_eq!(read["code"]["product_id"], "6950715599358");
    assert_eq!(read["code"]["expiry_date"], "2027-10-31");
    assert_eq!(read["product"], Value::Null);
    assert_eq!(read["saved"], false);
    let res = scan(&app, user, json!({"code": gs1, "save": true})).await;
    assert_eq!(
        assert_envelope(res, StatusCode::NOT_FOUND).await,
        "unknown_product"
    );
    assert_eq!(drugs_of(&app, user).await, 0);

    // A recognition teaches the catalogue the product (by its EAN-13).
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let res = app
        .recognize(
            user,
            &[("side.jpg", photo("cotton-swab-side-barcode.jpg"))],
            "?save=false",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let calls = app.model_calls().await.len();

    // Now the code alone adds the drug: the catalogue's name, the code's batch, expiry and
    // serial; no model call.
    let res = scan(&app, user, json!({"code": gs1, "save": true})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let added: Value = res.json().await.unwrap();
    let d = &added["drug"];
    assert_eq!(d["name"], "医用棉签");
    assert_eq!(d["manufacturer"], "可孚医疗科技股份有限公司");
    assert_eq!(d["barcode"], "6950715599358");
    assert_eq!(d["batch_number"], "P472410001");
    assert_eq!(d["expiry_date"], "2027-10-31");
    assert_eq!(d["serial_number"], "BOX0001");
    assert_eq!(d["box_id"], "gs1:06950715599358:BOX0001");
    assert_eq!(added["same_box"], false);
    assert!(added["checks"]["summary_zh"].is_string());
    assert_eq!(app.model_calls().await.len(), calls);

    // The same box again (as the scanner sends it: FNC1 as GS): the same drug, not a second.
    let raw = "]d2010695071559935817271031\u{1d}10P472410001\u{1d}21BOX0001";
    let res = scan(&app, user, json!({"code": raw, "save": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["same_box"], true);
    assert_eq!(again["saved"], false);
    assert_eq!(again["drug"]["id"], d["id"]);
    assert_eq!(drugs_of(&app, user).await, 1);

    // Another box of the product (another serial) is another drug; another person's box with
    // the same serial is theirs.
    let res = scan(
        &app,
        user,
        json!({"code": gs1.replace("BOX0001", "BOX0002"), "save": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stranger = app.user("Asia/Shanghai").await;
    let res = scan(&app, stranger, json!({"code": gs1, "save": true})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(drugs_of(&app, user).await, 2);
    assert_eq!(drugs_of(&app, stranger).await, 1);
}

#[tokio::test]
async fn a_gs1_datamatrix_on_the_photo_wins_over_the_model_and_the_box_is_recognised_twice_as_one()
{
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    // The model misreads the batch and gives only a month; the code has both exactly.
    let mut answer = cotton_swab_answer();
    answer["batch_number"] = json!("P47241OOO1");
    app.model_answers(&answer.to_string()).await;
    let text = "010695071559935817271031\u{1d}10P472410001\u{1d}21SN42";
    let res = app
        .recognize(
            user,
            &[("dm.jpg", datamatrix_on("cotton-swab-front.jpg", text))],
            "",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let rec = &body["recognition"];
    assert_eq!(rec["barcode"]["format"], "data_matrix", "{rec}");
    assert_eq!(rec["code"]["kind"], "gs1");
    assert_eq!(rec["sources"]["batch_number"], "barcode");
    assert_eq!(rec["sources"]["expiry_date"], "barcode");
    assert_eq!(rec["same_box"], false);
    let d = &body["drug"];
    assert_eq!(d["batch_number"], "P472410001");
    assert_eq!(d["expiry_date"], "2027-10-31");
    assert_eq!(d["barcode"], "6950715599358");
    assert_eq!(d["serial_number"], "SN42");
    assert!(
        rec["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("the code's is kept")),
        "{rec}"
    );
    assert!(body["checks"].is_object());

    // The same box photographed again (another picture): the same drug, not a second one.
    let res = app
        .recognize(
            user,
            &[("dm2.jpg", datamatrix_on("calcium-d3-front.jpg", text))],
            "",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["recognition"]["same_box"], true, "{again}");
    assert_eq!(again["drug"]["id"], d["id"]);
    assert_eq!(drugs_of(&app, user).await, 1);
}
