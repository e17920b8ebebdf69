//! The conventions of every list endpoint: `?limit=&offset=&sort=&order=` plus its filters, and
//! the answer `{ items, total, limit, offset }`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::Problem;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match the filters, on every page.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// `limit` and `offset`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
    pub offset: u64,
}

impl Window {
    pub fn parse(limit: Option<u32>, offset: Option<u64>) -> Result<Window, Problem> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(format!("limit must be between 1 and {MAX_LIMIT}"))
                .with_field(Some("limit".into()), format!("between 1 and {MAX_LIMIT}")));
        }
        Ok(Window { limit, offset: offset.unwrap_or(0) })
    }

    /// This window of items already filtered and sorted in memory (short lists: clients,
    /// groups, keys, user types).
    pub fn page_of<T>(self, items: Vec<T>) -> Page<T> {
        let total = items.len() as u64;
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let items = items.into_iter().skip(skip).take(self.limit as usize).collect();
        Page { items, total, limit: self.limit, offset: self.offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_bounded_and_pages_count_everything() {
        assert!(Window::parse(Some(0), None).is_err());
        assert!(Window::parse(Some(MAX_LIMIT + 1), None).is_err());
        let page = Window::parse(Some(2), Some(1)).unwrap().page_of(vec![1, 2, 3, 4]);
        assert_eq!((page.items, page.total, page.limit, page.offset), (vec![2, 3], 4, 2, 1));
        let past = Window::parse(None, Some(u64::MAX)).unwrap().page_of(vec![1]);
        assert!(past.items.is_empty() && past.total == 1);
    }
}
