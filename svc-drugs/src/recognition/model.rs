//! The one vision call of a recognition: every photo as a data URL, one JSON object back.

use base64::Engine;
use serde_json::json;
use shared::llm::{Completion, LlmError, extract_json_object};

use super::Photo;
use crate::state::AppState;

const PROMPT: &str = "You read medicine boxes. The photos show one box from several sides. \
Answer with one JSON object and nothing else, with these keys (null when not printed or not \
legible; copy text exactly as printed, Chinese kept as is): name (the drug's name as printed, \
e.g. 碳酸钙D3颗粒(Ⅱ)), brand (trade mark, e.g. 钙诺), generic_name, manufacturer, strength \
(规格), dosage_form (剂型), package (包装规格, e.g. 12袋/盒), approval_number (批准文号, e.g. \
国药准字H20051234), barcode (the digits under the barcode), batch_number (批号), \
production_date (生产日期), expiry_date (有效期至), dates as printed.";

/// The model's JSON object and the completion it came in. Every photo's JPEG must be loaded.
#[tracing::instrument(name = "recognition.model", skip_all, fields(photos = photos.len()))]
pub async fn ask(
    state: &AppState,
    photos: &[Photo],
) -> Result<(serde_json::Value, Completion), LlmError> {
    let mut content = vec![json!({"type": "text", "text": PROMPT})];
    for photo in photos {
        let jpeg = photo.jpeg.as_deref().unwrap_or_default();
        let data = base64::engine::general_purpose::STANDARD.encode(jpeg);
        content.push(json!({
            "type": "image_url",
            "image_url": {"url": format!("data:image/jpeg;base64,{data}")}
        }));
    }
    let messages = json!([{"role": "user", "content": content}]);
    let mut extra = serde_json::Map::new();
    extra.insert("temperature".into(), json!(0.1));
    let completion = state.vision.complete(messages, extra).await?;
    let answer = extract_json_object(&completion.content)
        .ok_or_else(|| LlmError::BadAnswer("no JSON object in the answer".into()))?;
    Ok((answer, completion))
}
