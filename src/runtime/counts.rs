//! Budget counters of one work item, as routing reads them.

use super::route::BudgetCounts;
use crate::workspace::state::BudgetCounters;

/// The counters of one item (`item_key`) in the store.
pub struct ItemCounts<'a> {
    pub counters: &'a BudgetCounters,
    pub item: &'a str,
}

impl BudgetCounts for ItemCounts<'_> {
    fn used(&self, budget: &str, class: Option<&str>) -> u64 {
        u64::from(self.counters.get(self.item, budget, class))
    }

    fn total(&self, budget: &str) -> u64 {
        u64::from(self.counters.total(self.item, budget))
    }
}
