//! Paging and sorting of administrative lists (issue #12): what a list asks for
//! (`PageRequest`, `Sort`) and what it answers (`Page`). Shared by every resource, the CLI and
//! the admin API alike; parsed here so that a bad `limit` is one clear error everywhere.

use serde::Serialize;

use super::AdminError;

/// At most this many items per page.
pub const MAX_LIMIT: u32 = 200;
pub const DEFAULT_LIMIT: u32 = 50;

/// Which slice of a list: `limit` items after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub offset: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, offset: 0 }
    }
}

impl PageRequest {
    /// `limit` 1..=200 (default 50), `offset` ≥ 0 (default 0).
    pub fn parse(limit: Option<i64>, offset: Option<i64>) -> Result<PageRequest, AdminError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) if (1..=i64::from(MAX_LIMIT)).contains(&l) => l as u32,
            Some(l) => return Err(AdminError::Invalid(format!("limit {l}: between 1 and {MAX_LIMIT}"))),
        };
        let offset = match offset {
            None => 0,
            Some(o) if o >= 0 => o as u64,
            Some(o) => return Err(AdminError::Invalid(format!("offset {o}: 0 or more"))),
        };
        Ok(PageRequest { limit, offset })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// A sort key of type `K` (an enum per resource) and its direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sort<K> {
    pub key: K,
    pub order: SortOrder,
}

impl<K: Copy> Sort<K> {
    /// `key`, `key:asc`, `key:desc` or `-key` (descending); `keys` names what a resource sorts by.
    pub fn parse(raw: &str, keys: &[(&str, K)]) -> Result<Sort<K>, AdminError> {
        let raw = raw.trim();
        let (name, order) = if let Some(name) = raw.strip_prefix('-') {
            (name, SortOrder::Desc)
        } else if let Some((name, dir)) = raw.split_once(':') {
            let order = match dir {
                "asc" => SortOrder::Asc,
                "desc" => SortOrder::Desc,
                _ => return Err(AdminError::Invalid(format!("sort {raw:?}: the direction is asc or desc"))),
            };
            (name, order)
        } else {
            (raw, SortOrder::Asc)
        };
        let key = keys.iter().find(|(n, _)| *n == name).map(|(_, k)| *k).ok_or_else(|| {
            let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
            AdminError::Invalid(format!("sort {raw:?}: one of {}", names.join(", ")))
        })?;
        Ok(Sort { key, order })
    }
}

/// One page of a list and how many items the whole list has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

impl<T> Page<T> {
    /// The offset of the next page, if there is one.
    pub fn next_offset(&self) -> Option<u64> {
        let next = self.offset + self.items.len() as u64;
        (next < self.total && !self.items.is_empty()).then_some(next)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_at_most_two_hundred_items_and_never_before_the_start() {
        assert_eq!(PageRequest::parse(None, None).unwrap(), PageRequest { limit: 50, offset: 0 });
        assert_eq!(PageRequest::parse(Some(200), Some(400)).unwrap(), PageRequest { limit: 200, offset: 400 });
        for (limit, offset) in [(Some(0), None), (Some(201), None), (None, Some(-1))] {
            assert!(PageRequest::parse(limit, offset).is_err(), "{limit:?} {offset:?}");
        }
    }

    #[test]
    fn sorts_name_a_known_key_and_a_direction() {
        let keys = [("login", 1), ("created_at", 2)];
        assert_eq!(Sort::parse("login", &keys).unwrap(), Sort { key: 1, order: SortOrder::Asc });
        assert_eq!(Sort::parse("-created_at", &keys).unwrap(), Sort { key: 2, order: SortOrder::Desc });
        assert_eq!(Sort::parse("created_at:desc", &keys).unwrap(), Sort { key: 2, order: SortOrder::Desc });
        assert!(Sort::parse("password", &keys).is_err());
        assert!(Sort::parse("login:up", &keys).is_err());
    }

    #[test]
    fn the_next_page_starts_after_this_one_until_the_end() {
        let page = Page { items: vec![1, 2], total: 5, limit: 2, offset: 2 };
        assert_eq!(page.next_offset(), Some(4));
        assert_eq!(Page { items: vec![5], total: 5, limit: 2, offset: 4 }.next_offset(), None);
    }
}
