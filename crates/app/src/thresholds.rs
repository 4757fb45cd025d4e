//! The label's risk thresholds: every one with its default (documented on
//! [`backstock_risk::Thresholds`]) and the value this label uses. Stored as one JSON
//! object in the store's `risk_thresholds` setting — what `backstock thresholds --set`
//! writes and [`crate::risk::thresholds`] reads.

use crate::{AppError, Exit};
use backstock_risk::Thresholds;
use backstock_store::Store;
use serde::Serialize;
use serde_json::{Map, Value};

const KEY: &str = "risk_thresholds";

/// One threshold: its default and this label's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdSetting {
    pub name: String,
    pub default: i64,
    pub current: i64,
}

impl ThresholdSetting {
    /// Set to something other than its default.
    pub fn overridden(&self) -> bool {
        self.current != self.default
    }
}

/// One threshold changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdChange {
    pub name: String,
    pub from: i64,
    pub to: i64,
}

fn object(t: &Thresholds) -> Map<String, Value> {
    match serde_json::to_value(t) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The names of every threshold, alphabetically.
pub fn names() -> Vec<String> {
    object(&Thresholds::default()).keys().cloned().collect()
}

/// Every threshold with its default and this label's value.
pub async fn settings(store: &Store) -> Result<Vec<ThresholdSetting>, AppError> {
    let current = object(&crate::risk::thresholds(store).await?);
    Ok(object(&Thresholds::default())
        .into_iter()
        .map(|(name, d)| {
            let default = d.as_i64().unwrap_or(0);
            let current = current
                .get(&name)
                .and_then(Value::as_i64)
                .unwrap_or(default);
            ThresholdSetting {
                name,
                default,
                current,
            }
        })
        .collect())
}

/// A value as typed for a threshold: a whole number, or empty for its default.
pub fn parse_value(name: &str, text: &str) -> Result<Option<i64>, AppError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>().map(Some).map_err(|_| {
        AppError::new(
            Exit::Input,
            format!("{name}: {t:?} is not a whole number (leave it empty for the default)"),
        )
    })
}

/// Sets some thresholds (`None`: back to the default) and keeps the others; refuses an
/// unknown name or a negative value, changing nothing. Returns what changed.
pub async fn update(
    store: &Store,
    changes: &[(String, Option<i64>)],
) -> Result<Vec<ThresholdChange>, AppError> {
    let defaults = object(&Thresholds::default());
    let before = object(&crate::risk::thresholds(store).await?);
    let mut after = before.clone();
    let mut problems = Vec::new();
    for (name, v) in changes {
        let Some(default) = defaults.get(name) else {
            problems.push(format!(
                "{name:?} is not a threshold (they are: {})",
                defaults.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        match v {
            Some(n) if *n < 0 => problems.push(format!("{name}: {n} is below zero")),
            Some(n) => {
                after.insert(name.clone(), Value::from(*n));
            }
            None => {
                after.insert(name.clone(), default.clone());
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            format!("thresholds not saved: {}", problems.join("; ")),
        ));
    }
    let t: Thresholds = serde_json::from_value(Value::Object(after.clone()))
        .map_err(|e| AppError::new(Exit::Input, format!("thresholds not saved: {e}")))?;
    let changed: Vec<ThresholdChange> = after
        .iter()
        .filter_map(|(name, v)| {
            let to = v.as_i64()?;
            let from = before.get(name).and_then(Value::as_i64)?;
            (from != to).then(|| ThresholdChange {
                name: name.clone(),
                from,
                to,
            })
        })
        .collect();
    if !changed.is_empty() {
        store
            .set_meta(KEY, &serde_json::to_string(&t).unwrap_or_default())
            .await?;
    }
    Ok(changed)
}

/// Replaces the thresholds with a JSON object's (any field left out takes its
/// default; an unknown field is refused): `backstock thresholds --set FILE`.
pub async fn replace_from_json(store: &Store, text: &str) -> Result<Thresholds, AppError> {
    let t: Thresholds =
        serde_json::from_str(text).map_err(|e| AppError::new(Exit::Input, e.to_string()))?;
    store
        .set_meta(KEY, &serde_json::to_string(&t).unwrap_or_default())
        .await?;
    Ok(t)
}
