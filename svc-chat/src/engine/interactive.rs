//! Suggestions and questions the model offers the user (the original's `provide_suggestions`
//! and `ask_user_questions`), checked before they reach the app: a malformed call goes back
//! to the model as an error instead of breaking the app's rendering.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const QUESTION_TYPES: &[&str] = &["single_choice", "multiple_choice", "text_input"];

const LABEL_MAX: usize = 100;
const TEXT_MAX: usize = 300;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Suggestion {
    pub label: String,
    /// `None`: the user types the value in.
    pub value: Option<String>,
    pub description: Option<String>,
    /// 0–100: how likely the model thinks the user picks it.
    pub probability: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct QuestionOption {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Question {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub options: Option<Vec<QuestionOption>>,
    pub placeholder: Option<String>,
}

fn text(name: &str, s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(format!("{name} must be 1 to {max} characters"));
    }
    Ok(t.to_owned())
}

/// 2–4 suggestions with distinct labels. A value, when there is one, is the label: the
/// original did the same so the app sends back exactly what the model offered.
pub fn suggestions(args: &Value) -> Result<Vec<Suggestion>, String> {
    let list: Vec<Suggestion> = serde_json::from_value(args["suggestions"].clone())
        .map_err(|e| format!("suggestions: {e}"))?;
    if !(2..=4).contains(&list.len()) {
        return Err("give 2 to 4 suggestions".into());
    }
    let mut out: Vec<Suggestion> = Vec::with_capacity(list.len());
    for s in list {
        let label = text("label", &s.label, LABEL_MAX)?;
        if out.iter().any(|o| o.label == label) {
            return Err(format!("the label {label:?} is given twice"));
        }
        if s.probability.is_some_and(|p| !(0..=100).contains(&p)) {
            return Err("probability must be 0 to 100".into());
        }
        let description = s
            .description
            .map(|d| text("description", &d, TEXT_MAX))
            .transpose()?;
        out.push(Suggestion {
            value: s.value.map(|_| label.clone()),
            label,
            description,
            probability: s.probability,
        });
    }
    Ok(out)
}

/// 1–5 questions with distinct ids; choice questions have 2–10 options, text questions none.
pub fn questions(args: &Value) -> Result<Vec<Question>, String> {
    let list: Vec<Question> =
        serde_json::from_value(args["questions"].clone()).map_err(|e| format!("questions: {e}"))?;
    if !(1..=5).contains(&list.len()) {
        return Err("ask 1 to 5 questions".into());
    }
    let mut out: Vec<Question> = Vec::with_capacity(list.len());
    for q in list {
        let id = text("id", &q.id, 50)?;
        if out.iter().any(|o| o.id == id) {
            return Err(format!("the question id {id:?} is used twice"));
        }
        if !QUESTION_TYPES.contains(&q.kind.as_str()) {
            return Err(format!("type must be one of {}", QUESTION_TYPES.join(", ")));
        }
        let options = match (q.kind.as_str(), q.options) {
            ("text_input", _) => None,
            (_, Some(opts)) if (2..=10).contains(&opts.len()) => Some(
                opts.into_iter()
                    .map(|o| {
                        let label = text("option label", &o.label, LABEL_MAX)?;
                        Ok(QuestionOption {
                            value: label.clone(),
                            label,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?,
            ),
            _ => return Err(format!("question {id:?} needs 2 to 10 options")),
        };
        out.push(Question {
            text: text("text", &q.text, TEXT_MAX)?,
            kind: q.kind,
            placeholder: q
                .placeholder
                .map(|p| text("placeholder", &p, LABEL_MAX))
                .transpose()?,
            options,
            id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use serde_json::json;

    #[test]
    fn suggestions_are_bounded_and_their_values_are_their_labels() {
        let ok = suggestions(&json!({"suggestions": [
            {"label": "明早 9 点", "value": "9am", "probability": 70},
            {"label": "自己填", "value": null}
        ]}))
        .unwrap();
        assert_eq!(ok[0].value.as_deref(), Some("明早 9 点"));
        assert_eq!(ok[1].value, None);
        for bad in [
            json!({"suggestions": [{"label": "only one"}]}),
            json!({"suggestions": [{"label": "a"}, {"label": "a"}]}),
            json!({"suggestions": [{"label": "a", "probability": 101}, {"label": "b"}]}),
            json!({"suggestions": [{"label": ""}, {"label": "b"}]}),
            json!({"suggestions": "a, b"}),
        ] {
            assert!(suggestions(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn questions_need_options_for_choices_and_distinct_ids() {
        let ok = questions(&json!({"questions": [
            {"id": "period", "text": "什么时候？", "type": "single_choice",
             "options": [{"label": "上午", "value": "am"}, {"label": "下午", "value": "pm"}]},
            {"id": "note", "text": "备注？", "type": "text_input", "placeholder": "可不填"}
        ]}))
        .unwrap();
        assert_eq!(ok[0].options.as_ref().unwrap()[0].value, "上午");
        assert!(ok[1].options.is_none());
        for bad in [
            json!({"questions": []}),
            json!({"questions": [{"id": "a", "text": "?", "type": "single_choice"}]}),
            json!({"questions": [{"id": "a", "text": "?", "type": "rating"}]}),
            json!({"questions": [{"id": "a", "text": "?", "type": "text_input"}, {"id": "a", "text": "?", "type": "text_input"}]}),
        ] {
            assert!(questions(&bad).is_err(), "{bad}");
        }
    }
}
