//! The check itself, over any list of drugs: which ingredients each one holds, which pairs
//! of drugs interact, which ingredient is in two different products. Pure, no I/O.

use serde::Serialize;
use uuid::Uuid;

use super::table::{Ingredient, IngredientIx, Severity, Table};

/// What a drug is checked by: its id, the text that names it, and its form.
pub struct Item<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub generic_name: Option<&'a str>,
    pub brand: Option<&'a str>,
    pub dosage_form: Option<&'a str>,
}

/// Forms used on the skin, the eye or the ear: the table's interactions are those of
/// medicines taken by mouth or injected (ketoconazole cream is not ketoconazole tablets).
const TOPICAL: [&str; 16] = [
    "乳膏",
    "软膏",
    "凝胶",
    "洗剂",
    "搽剂",
    "酊",
    "滴眼液",
    "眼膏",
    "眼用",
    "滴耳液",
    "外用",
    "cream",
    "ointment",
    "lotion",
    "eye drops",
    "shampoo",
];

impl Item<'_> {
    fn is_topical(&self) -> bool {
        [Some(self.name), self.generic_name, self.dosage_form]
            .into_iter()
            .flatten()
            .map(shared::text::fold)
            .any(|t| TOPICAL.iter().any(|k| t.contains(k)))
    }

    /// Two boxes of the same product are one medicine (a spare), not a duplicate.
    fn product_key(&self) -> String {
        shared::text::fold(self.generic_name.unwrap_or(self.name))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DrugRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DrugStatus {
    /// Something to look at involves this drug.
    Findings,
    /// Its ingredients are in the table and nothing involving them was found.
    NoKnownInteraction,
    /// None of its ingredients is in the table: it could not be checked.
    NotInTable,
    /// Used on the skin, the eye or the ear: the table is for medicines taken by mouth or
    /// injected, so it is left out of the checks.
    Topical,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckedDrug {
    pub id: Uuid,
    pub name: String,
    pub ingredients: Vec<Ingredient>,
    pub status: DrugStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct Interaction {
    pub severity: Severity,
    pub drugs: [DrugRef; 2],
    pub ingredients: [Ingredient; 2],
    pub zh: String,
    pub en: String,
    pub advice_zh: String,
    pub advice_en: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub ingredient: Ingredient,
    pub drugs: Vec<DrugRef>,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRef {
    pub version: String,
    pub source: String,
}

/// The answer of `GET /api/v1/drugs/checks`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub table: TableRef,
    pub checked: usize,
    pub summary_zh: String,
    pub summary_en: String,
    pub interactions: Vec<Interaction>,
    pub duplicates: Vec<Duplicate>,
    pub drugs: Vec<CheckedDrug>,
}

impl Report {
    /// Only what involves one drug (the one just added), the rest of the cabinet as context.
    pub fn about(mut self, drug: Uuid) -> Report {
        self.interactions
            .retain(|i| i.drugs.iter().any(|d| d.id == drug));
        self.duplicates
            .retain(|d| d.drugs.iter().any(|d| d.id == drug));
        self.drugs.retain(|d| d.id == drug);
        let (zh, en) = summary(&self.interactions, &self.duplicates, &self.drugs);
        self.summary_zh = zh;
        self.summary_en = en;
        self
    }
}

pub fn check(table: &Table, items: &[Item<'_>]) -> Report {
    let topical: Vec<bool> = items.iter().map(Item::is_topical).collect();
    let found: Vec<Vec<IngredientIx>> = items
        .iter()
        .map(|item| {
            let mut all = table.ingredients_in(item.name);
            for text in [item.generic_name, item.brand].into_iter().flatten() {
                for ix in table.ingredients_in(text) {
                    if !all.contains(&ix) {
                        all.push(ix);
                    }
                }
            }
            all
        })
        .collect();
    let keys: Vec<String> = items.iter().map(Item::product_key).collect();
    let reference = |i: usize| DrugRef {
        id: items[i].id,
        name: items[i].name.to_owned(),
    };
    let mut involved = vec![false; items.len()];

    let mut interactions = Vec::new();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            if topical[i] || topical[j] {
                continue;
            }
            for &a in &found[i] {
                for &b in &found[j] {
                    let Some(rule) = table.rule(a, b) else {
                        continue;
                    };
                    involved[i] = true;
                    involved[j] = true;
                    interactions.push(Interaction {
                        severity: rule.severity,
                        drugs: [reference(i), reference(j)],
                        ingredients: [table.ingredient(a).clone(), table.ingredient(b).clone()],
                        zh: rule.zh.clone(),
                        en: rule.en.clone(),
                        advice_zh: rule.advice_zh.clone(),
                        advice_en: rule.advice_en.clone(),
                        source: rule.source.clone(),
                    });
                }
            }
        }
    }
    // Worst first; the cabinet's order otherwise.
    interactions.sort_by_key(|i| std::cmp::Reverse(i.severity));

    let mut duplicates = Vec::new();
    let mut holders: Vec<(IngredientIx, Vec<usize>)> = Vec::new();
    for (i, ingredients) in found.iter().enumerate() {
        if topical[i] {
            continue;
        }
        for &ix in ingredients {
            match holders.iter_mut().find(|(held, _)| *held == ix) {
                Some((_, drugs)) => drugs.push(i),
                None => holders.push((ix, vec![i])),
            }
        }
    }
    for (ix, drugs) in holders {
        let mut products: Vec<&str> = drugs.iter().map(|&i| keys[i].as_str()).collect();
        products.sort_unstable();
        products.dedup();
        if products.len() < 2 {
            continue;
        }
        for &i in &drugs {
            involved[i] = true;
        }
        let ingredient = table.ingredient(ix).clone();
        duplicates.push(Duplicate {
            zh: format!(
                "{} 种药品都含有{}，同时服用可能超过每日最大剂量。",
                products.len(),
                ingredient.zh
            ),
            en: format!(
                "{} products all contain {}; taken together they may exceed the daily maximum.",
                products.len(),
                ingredient.en
            ),
            ingredient,
            drugs: drugs.into_iter().map(reference).collect(),
        });
    }

    let drugs: Vec<CheckedDrug> = items
        .iter()
        .zip(&found)
        .zip(involved)
        .zip(&topical)
        .map(|(((item, ingredients), involved), topical)| CheckedDrug {
            id: item.id,
            name: item.name.to_owned(),
            ingredients: ingredients
                .iter()
                .map(|&ix| table.ingredient(ix).clone())
                .collect(),
            status: if *topical {
                DrugStatus::Topical
            } else if involved {
                DrugStatus::Findings
            } else if ingredients.is_empty() {
                DrugStatus::NotInTable
            } else {
                DrugStatus::NoKnownInteraction
            },
        })
        .collect();
    let (summary_zh, summary_en) = summary(&interactions, &duplicates, &drugs);
    Report {
        table: TableRef {
            version: table.version.clone(),
            source: table.source.clone(),
        },
        checked: items.len(),
        summary_zh,
        summary_en,
        interactions,
        duplicates,
        drugs,
    }
}

/// One sentence in each language. Never "safe": the most it says is that our table knows of
/// nothing, and which drugs it could not check.
fn summary(
    interactions: &[Interaction],
    duplicates: &[Duplicate],
    drugs: &[CheckedDrug],
) -> (String, String) {
    if drugs.is_empty() {
        return (
            "药箱里还没有药品，没有可检查的内容。".into(),
            "The cabinet is empty: there is nothing to check.".into(),
        );
    }
    let unknown = drugs
        .iter()
        .filter(|d| d.status == DrugStatus::NotInTable)
        .count();
    let (mut zh, mut en) = if interactions.is_empty() && duplicates.is_empty() {
        if unknown == drugs.len() {
            (
                "这些药品的成分不在我们的相互作用表中，无法检查。".to_owned(),
                "These drugs' ingredients are not in our table: they could not be checked."
                    .to_owned(),
            )
        } else {
            (
                "在我们的相互作用表中未发现已知的相互作用或重复成分（这不代表一定安全）。"
                    .to_owned(),
                "No known interaction or duplicate ingredient in our table (this does not mean the combination is safe)."
                    .to_owned(),
            )
        }
    } else {
        let worst = interactions.iter().map(|i| i.severity).max();
        let mut zh_parts = Vec::new();
        let mut en_parts = Vec::new();
        if let Some(s) = worst {
            zh_parts.push(format!(
                "{} 条相互作用（最严重：{}）",
                interactions.len(),
                s.zh()
            ));
            en_parts.push(format!(
                "{} interaction(s) (worst: {})",
                interactions.len(),
                s.as_str()
            ));
        }
        if !duplicates.is_empty() {
            zh_parts.push(format!("{} 项重复成分", duplicates.len()));
            en_parts.push(format!("{} duplicate ingredient(s)", duplicates.len()));
        }
        let zh = format!("发现 {}，请咨询医生或药师。", zh_parts.join("、"));
        let en = format!(
            "Found {}: ask a doctor or pharmacist.",
            en_parts.join(" and ")
        );
        (zh, en)
    };
    if unknown > 0 && unknown < drugs.len() {
        zh.push_str(&format!(
            "另有 {unknown} 种药品的成分不在我们的表中，未能检查。"
        ));
        en.push_str(&format!(
            " {unknown} drug(s) are not in our table and could not be checked."
        ));
    }
    (zh, en)
}

#[cfg(test)]
impl Item<'_> {
    fn clone_ref(&self) -> Item<'_> {
        Item {
            id: self.id,
            name: self.name,
            generic_name: self.generic_name,
            brand: self.brand,
            dosage_form: self.dosage_form,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &'static str) -> Item<'static> {
        Item {
            id: Uuid::new_v4(),
            name,
            generic_name: None,
            brand: None,
            dosage_form: None,
        }
    }

    #[test]
    fn interactions_duplicates_and_what_could_not_be_checked() {
        let t = Table::get().unwrap();
        let items = [
            item("华法林钠片"),
            item("布洛芬缓释胶囊"),
            item("对乙酰氨基酚片"),
            item("复方氨酚烷胺胶囊"),
            item("某某草本茶"),
        ];
        let r = check(t, &items);
        assert_eq!(r.checked, 5);
        // warfarin–ibuprofen major first, warfarin–paracetamol moderate (twice: two products).
        assert_eq!(r.interactions[0].severity, Severity::Major);
        assert_eq!(r.interactions[0].drugs[1].name, "布洛芬缓释胶囊");
        assert_eq!(
            r.interactions
                .iter()
                .filter(|i| i.ingredients[1].id == "paracetamol")
                .count(),
            2
        );
        assert_eq!(r.duplicates.len(), 1);
        assert_eq!(r.duplicates[0].ingredient.id, "paracetamol");
        assert!(r.duplicates[0].zh.contains("对乙酰氨基酚"));
        assert_eq!(r.drugs[4].status, DrugStatus::NotInTable);
        assert!(r.summary_zh.contains("另有 1 种药品"), "{}", r.summary_zh);
        assert!(!r.summary_en.to_lowercase().contains(" safe."));

        let about = check(t, &items).about(items[1].id);
        assert_eq!(about.interactions.len(), 1);
        // Only what was found is named.
        assert_eq!(
            about.summary_zh,
            "发现 1 条相互作用（最严重：严重），请咨询医生或药师。"
        );
        assert_eq!(
            about.summary_en,
            "Found 1 interaction(s) (worst: major): ask a doctor or pharmacist."
        );
        assert!(about.duplicates.is_empty());
        assert_eq!(about.drugs.len(), 1);
    }

    #[test]
    fn creams_eye_drops_and_shampoos_are_left_out() {
        let t = Table::get().unwrap();
        let mut cream = item("酮康唑乳膏");
        let r = check(t, &[item("辛伐他汀片"), cream.clone_ref()]);
        assert!(r.interactions.is_empty());
        assert_eq!(r.drugs[1].status, DrugStatus::Topical);
        cream.name = "酮康唑片";
        cream.dosage_form = Some("乳膏");
        assert!(
            check(t, &[item("辛伐他汀片"), cream])
                .interactions
                .is_empty()
        );
        assert_eq!(
            check(t, &[item("辛伐他汀片"), item("酮康唑片")]).interactions[0].severity,
            Severity::Contraindicated
        );
    }

    #[test]
    fn two_boxes_of_one_product_are_not_a_duplicate_and_nothing_found_is_not_safe() {
        let t = Table::get().unwrap();
        let r = check(t, &[item("对乙酰氨基酚片"), item("对乙酰氨基酚片")]);
        assert!(r.duplicates.is_empty());
        assert!(r.summary_zh.contains("未发现已知"));
        assert!(
            r.summary_en
                .contains("does not mean the combination is safe")
        );
        let empty = check(t, &[]);
        assert_eq!(empty.checked, 0);
        assert!(empty.summary_zh.contains("药箱里还没有药品"));
        let unknown = check(t, &[item("某某草本茶")]);
        assert!(unknown.summary_en.contains("not in our table"));
    }
}

/// The labelled pairs (`tests/data/interaction_pairs.csv`): every listed interaction found
/// at its severity, nothing reported for a pair labelled `none`.
#[cfg(test)]
mod labelled {
    use super::*;

    const PAIRS: &str = include_str!("../../tests/data/interaction_pairs.csv");

    #[test]
    fn every_labelled_pair_is_answered_as_labelled() {
        let t = Table::get().unwrap();
        let mut listed = 0;
        let mut wrong = Vec::new();
        for line in PAIRS.lines().skip_while(|l| l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let [a, b, expected] = cols[..] else {
                panic!("bad line {line:?}");
            };
            let items = [
                Item {
                    id: Uuid::new_v4(),
                    name: a,
                    generic_name: None,
                    brand: None,
                    dosage_form: None,
                },
                Item {
                    id: Uuid::new_v4(),
                    name: b,
                    generic_name: None,
                    brand: None,
                    dosage_form: None,
                },
            ];
            let r = check(t, &items);
            let worst = r.interactions.iter().map(|i| i.severity).max();
            let got = worst.map_or("none", Severity::as_str);
            if expected != "none" {
                listed += 1;
                // Either order.
                let reversed = check(t, &[items[1].clone_ref(), items[0].clone_ref()]);
                assert_eq!(reversed.interactions.len(), r.interactions.len(), "{line}");
            }
            if got != expected {
                wrong.push(format!("{line} → {got}"));
            }
        }
        assert!(listed >= 100, "only {listed} labelled interactions");
        assert!(
            wrong.is_empty(),
            "answered otherwise:\n{}",
            wrong.join("\n")
        );
    }
}
