//! Per-item budget counters (`state/budget_counters.json`): how much of each budget a work item spent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SCHEMA_VERSION;
use crate::workspace::family::Family;

/// The key of a work item in the counters: `<family>:<id>`.
pub fn item_key(family: Family, id: &str) -> String {
    format!("{}:{id}", family.as_str())
}

/// The budgets one item spent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemBudgets {
    /// Budget name → units spent.
    pub counts: BTreeMap<String, u32>,
    /// Budgets kept per failure class: budget name → failure class → units spent.
    pub by_class: BTreeMap<String, BTreeMap<String, u32>>,
}

/// Budget counters of every work item that spent some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BudgetCounters {
    /// `1.0`.
    pub schema_version: String,
    /// `budget_counters`.
    pub kind: String,
    /// Item key ([`item_key`]) → budgets.
    pub items: BTreeMap<String, ItemBudgets>,
}

impl Default for BudgetCounters {
    fn default() -> BudgetCounters {
        BudgetCounters {
            schema_version: SCHEMA_VERSION.to_string(),
            kind: "budget_counters".to_string(),
            items: BTreeMap::new(),
        }
    }
}

impl BudgetCounters {
    /// Units of `budget` spent by `item` (for one failure class when `class` is given).
    pub fn get(&self, item: &str, budget: &str, class: Option<&str>) -> u32 {
        let Some(budgets) = self.items.get(item) else {
            return 0;
        };
        match class {
            None => budgets.counts.get(budget).copied().unwrap_or(0),
            Some(class) => budgets
                .by_class
                .get(budget)
                .and_then(|c| c.get(class))
                .copied()
                .unwrap_or(0),
        }
    }

    /// Spends one unit; returns the new count.
    pub fn increment(&mut self, item: &str, budget: &str, class: Option<&str>) -> u32 {
        let budgets = self.items.entry(item.to_string()).or_default();
        let count = match class {
            None => budgets.counts.entry(budget.to_string()).or_default(),
            Some(class) => budgets
                .by_class
                .entry(budget.to_string())
                .or_default()
                .entry(class.to_string())
                .or_default(),
        };
        *count = count.saturating_add(1);
        *count
    }

    /// Units of `budget` spent over every failure class (and unclassed).
    pub fn total(&self, item: &str, budget: &str) -> u32 {
        let Some(budgets) = self.items.get(item) else {
            return 0;
        };
        let classed: u32 = budgets.by_class.get(budget).map_or(0, |c| c.values().sum());
        classed + budgets.counts.get(budget).copied().unwrap_or(0)
    }

    /// Forgets an item's counters (it left the plane).
    pub fn reset_item(&mut self, item: &str) -> bool {
        self.items.remove(item).is_some()
    }
}
