//! The interaction table (`data/interactions.toml`), loaded once: the names a box may print
//! mapped to active ingredients by one automaton, and every rule expanded to the ingredient
//! pairs it covers, so a check is lookups only.

use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

const TABLE: &str = include_str!("../../data/interactions.toml");

/// How serious an interaction is, least first (so the worst of several is the `max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Moderate,
    Major,
    Contraindicated,
}

impl Severity {
    /// The name in the answers (as serialised).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Moderate => "moderate",
            Self::Major => "major",
            Self::Contraindicated => "contraindicated",
        }
    }

    pub const fn zh(self) -> &'static str {
        match self {
            Self::Moderate => "中度",
            Self::Major => "严重",
            Self::Contraindicated => "禁止合用",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    source: String,
    #[serde(rename = "class")]
    classes: Vec<ClassRow>,
    #[serde(rename = "ingredient")]
    ingredients: Vec<IngredientRow>,
    #[serde(rename = "product")]
    products: Vec<ProductRow>,
    #[serde(rename = "interaction")]
    interactions: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassRow {
    id: String,
    zh: String,
    en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IngredientRow {
    id: String,
    zh: String,
    en: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    classes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductRow {
    names: Vec<String>,
    ingredients: Vec<String>,
}

/// One rule of the table, between two ingredients or classes (`@class`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub a: String,
    pub b: String,
    pub severity: Severity,
    pub zh: String,
    pub en: String,
    pub advice_zh: String,
    pub advice_en: String,
    pub source: String,
}

impl Rule {
    /// How many of its sides name an ingredient rather than a class: a rule about the two
    /// drugs themselves says more than one about their classes.
    fn specificity(&self) -> usize {
        [&self.a, &self.b]
            .iter()
            .filter(|side| !side.starts_with('@'))
            .count()
    }
}

/// An active ingredient as the answers name it.
#[derive(Debug, Clone, Serialize)]
pub struct Ingredient {
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// Index of an ingredient in [`Table::ingredients`].
pub type IngredientIx = u16;

pub struct Table {
    pub version: String,
    pub source: String,
    pub ingredients: Vec<Ingredient>,
    pub rules: Vec<Rule>,
    /// Every name a box may print, folded; what each one means.
    names: AhoCorasick,
    meanings: Vec<Vec<IngredientIx>>,
    /// Whether a name is Latin (matched as a whole word only).
    latin: Vec<bool>,
    /// The rule for each pair of ingredients (smaller index first): the most severe, then
    /// the most specific, then the first written.
    pairs: HashMap<(IngredientIx, IngredientIx), u16>,
}

/// The shipped table, parsed on first use (the service checks it at start, so a broken
/// table stops a release from starting rather than answering wrongly).
static TABLE_LOADED: LazyLock<Result<Table, String>> = LazyLock::new(|| Table::parse(TABLE));

impl Table {
    pub fn get() -> Result<&'static Table, String> {
        TABLE_LOADED.as_ref().map_err(Clone::clone)
    }

    pub fn parse(text: &str) -> Result<Table, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut index: HashMap<&str, IngredientIx> = HashMap::new();
        let mut class_members: HashMap<&str, Vec<IngredientIx>> = file
            .classes
            .iter()
            .map(|c| (c.id.as_str(), Vec::new()))
            .collect();
        if class_members.len() != file.classes.len() {
            return Err("a class is listed twice".into());
        }
        for c in &file.classes {
            if c.zh.is_empty() || c.en.is_empty() {
                return Err(format!("class {} has no name", c.id));
            }
        }
        let mut ingredients = Vec::new();
        for (i, row) in file.ingredients.iter().enumerate() {
            let ix = IngredientIx::try_from(i).map_err(|_| "too many ingredients")?;
            if index.insert(row.id.as_str(), ix).is_some() {
                return Err(format!("ingredient {} is listed twice", row.id));
            }
            for class in &row.classes {
                class_members
                    .get_mut(class.as_str())
                    .ok_or_else(|| format!("{}: no class {class}", row.id))?
                    .push(ix);
            }
            ingredients.push(Ingredient {
                id: row.id.clone(),
                zh: row.zh.clone(),
                en: row.en.clone(),
            });
        }

        // Names → ingredients. A name may belong to one ingredient only, or to one product.
        let mut names: Vec<String> = Vec::new();
        let mut meanings: Vec<Vec<IngredientIx>> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut add = |name: &str, meaning: Vec<IngredientIx>| -> Result<(), String> {
            let folded = shared::text::fold(name.trim());
            if folded.chars().count() < 2 {
                return Err(format!("name {name:?} is too short to match safely"));
            }
            if let Some(&at) = seen.get(&folded) {
                if meanings[at] != meaning {
                    return Err(format!("name {name:?} means two things"));
                }
                return Ok(());
            }
            seen.insert(folded.clone(), names.len());
            names.push(folded);
            meanings.push(meaning);
            Ok(())
        };
        for (ix, row) in file.ingredients.iter().enumerate() {
            let ix = ix as IngredientIx;
            for name in [&row.zh, &row.en].into_iter().chain(&row.aliases) {
                add(name, vec![ix])?;
            }
        }
        for product in &file.products {
            let mut meaning = Vec::new();
            for id in &product.ingredients {
                let ix = *index
                    .get(id.as_str())
                    .ok_or_else(|| format!("product {:?}: no ingredient {id}", product.names))?;
                if !meaning.contains(&ix) {
                    meaning.push(ix);
                }
            }
            for name in &product.names {
                add(name, meaning.clone())?;
            }
        }
        let latin = names.iter().map(|n| n.is_ascii()).collect();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&names)
            .map_err(|e| e.to_string())?;

        // Rules → pairs.
        let side = |s: &str| -> Result<Vec<IngredientIx>, String> {
            match s.strip_prefix('@') {
                Some(class) => class_members
                    .get(class)
                    .cloned()
                    .ok_or_else(|| format!("no class {class}")),
                None => index
                    .get(s)
                    .map(|&ix| vec![ix])
                    .ok_or_else(|| format!("no ingredient {s}")),
            }
        };
        let mut pairs: HashMap<(IngredientIx, IngredientIx), u16> = HashMap::new();
        for (r, rule) in file.interactions.iter().enumerate() {
            if [
                &rule.zh,
                &rule.en,
                &rule.advice_zh,
                &rule.advice_en,
                &rule.source,
            ]
            .iter()
            .any(|t| t.trim().is_empty())
            {
                return Err(format!("rule {} – {} has an empty text", rule.a, rule.b));
            }
            let r = u16::try_from(r).map_err(|_| "too many rules")?;
            for &a in &side(&rule.a)? {
                for &b in &side(&rule.b)? {
                    if a == b {
                        continue;
                    }
                    let key = (a.min(b), a.max(b));
                    let better = match pairs.get(&key) {
                        None => true,
                        Some(&held) => {
                            let held = &file.interactions[usize::from(held)];
                            (rule.severity, rule.specificity())
                                > (held.severity, held.specificity())
                        }
                    };
                    if better {
                        pairs.insert(key, r);
                    }
                }
            }
        }
        Ok(Table {
            version: file.version,
            source: file.source,
            ingredients,
            rules: file.interactions,
            names: automaton,
            meanings,
            latin,
            pairs,
        })
    }

    /// The ingredients named in some text (a drug's name, generic name, brand), in order of
    /// first mention, each once. Latin names count only as whole words.
    pub fn ingredients_in(&self, text: &str) -> Vec<IngredientIx> {
        let folded = shared::text::fold(text);
        let bytes = folded.as_bytes();
        let mut out = Vec::new();
        for m in self.names.find_iter(&folded) {
            let p = m.pattern().as_usize();
            if self.latin[p] {
                let before = m.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(m.end()).copied();
                if before.is_some_and(|c| c.is_ascii_alphabetic())
                    || after.is_some_and(|c| c.is_ascii_alphabetic())
                {
                    continue;
                }
            }
            for &ix in &self.meanings[p] {
                if !out.contains(&ix) {
                    out.push(ix);
                }
            }
        }
        out
    }

    /// The rule between two ingredients, if the table has one.
    pub fn rule(&self, a: IngredientIx, b: IngredientIx) -> Option<&Rule> {
        self.pairs
            .get(&(a.min(b), a.max(b)))
            .map(|&r| &self.rules[usize::from(r)])
    }

    /// How many ingredient pairs the rules cover.
    pub fn pair_count(&self) -> usize {
        self.pairs.len()
    }

    pub fn ingredient(&self, ix: IngredientIx) -> &Ingredient {
        &self.ingredients[usize::from(ix)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &Table, text: &str) -> Vec<String> {
        t.ingredients_in(text)
            .into_iter()
            .map(|ix| t.ingredient(ix).id.clone())
            .collect()
    }

    #[test]
    fn the_shipped_table_loads_and_every_name_is_distinct() {
        let t = Table::get().unwrap();
        assert!(t.ingredients.len() >= 100, "{}", t.ingredients.len());
        assert!(t.pair_count() >= 300, "{}", t.pair_count());
        assert!(!t.version.is_empty() && t.source.contains("FDA"));
    }

    #[test]
    fn names_on_boxes_map_to_ingredients() {
        let t = Table::get().unwrap();
        assert_eq!(names(t, "华法林钠片"), ["warfarin"]);
        assert_eq!(names(t, "布洛芬缓释胶囊"), ["ibuprofen"]);
        // The longest name wins: 罗红霉素 is not 红霉素, 艾司西酞普兰 not 西酞普兰.
        assert_eq!(names(t, "罗红霉素分散片"), ["roxithromycin"]);
        assert_eq!(names(t, "草酸艾司西酞普兰片"), ["escitalopram"]);
        assert_eq!(names(t, "多索茶碱片"), ["doxofylline"]);
        // Compound names by their abbreviations; full-width brackets and numerals folded.
        assert_eq!(
            names(t, "复方氨酚烷胺片"),
            ["paracetamol", "amantadine", "caffeine", "chlorphenamine"]
        );
        assert_eq!(
            names(t, "复方对乙酰氨基酚片（Ⅱ）"),
            ["paracetamol", "propyphenazone", "caffeine"]
        );
        assert_eq!(names(t, "碳酸钙D3颗粒(Ⅱ)"), ["calcium"]);
        // English as a whole word only, any case.
        assert_eq!(names(t, "Tylenol Extra Strength"), ["paracetamol"]);
        assert_eq!(names(t, "Aspirin 100mg"), ["aspirin"]);
        assert!(names(t, "Aspirinex").is_empty());
        assert!(names(t, "维生素C片").is_empty());
    }

    #[test]
    fn the_worst_and_most_specific_rule_wins_and_order_does_not_matter() {
        let t = Table::get().unwrap();
        let ix = |id: &str| {
            t.ingredients
                .iter()
                .position(|i| i.id == id)
                .map(|p| p as IngredientIx)
                .unwrap()
        };
        let (aspirin, ibuprofen, warfarin) = (ix("aspirin"), ix("ibuprofen"), ix("warfarin"));
        // Two NSAIDs (class rule) and aspirin–ibuprofen (named rule), both moderate: the named one.
        let r = t.rule(aspirin, ibuprofen).unwrap();
        assert_eq!((r.a.as_str(), r.b.as_str()), ("aspirin", "ibuprofen"));
        assert_eq!(t.rule(ibuprofen, aspirin).unwrap().a, "aspirin");
        assert_eq!(
            t.rule(warfarin, ibuprofen).unwrap().severity,
            Severity::Major
        );
        assert!(t.rule(warfarin, warfarin).is_none());
    }

    #[test]
    fn severity_names_are_the_serialised_ones() {
        for s in [
            Severity::Moderate,
            Severity::Major,
            Severity::Contraindicated,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn a_broken_table_is_refused_with_the_reason() {
        let bad = TABLE.replace("b = \"@nsaid\"", "b = \"@nsaids\"");
        assert!(
            Table::parse(&bad)
                .err()
                .unwrap()
                .contains("no class nsaids")
        );
        let twice = format!("{TABLE}\n[[ingredient]]\nid = \"x\"\nzh = \"布洛芬\"\nen = \"x\"\n");
        assert!(
            Table::parse(&twice)
                .err()
                .unwrap()
                .contains("means two things")
        );
    }
}
