//! Bounded places for long-lived work that holds resources while a client
//! reads it (live event streams, exports): a client holds at most its share,
//! the server at most its total, and a place is given back the moment the
//! work ends or its client goes away (dropping the [`Slot`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{AppError, Principal};

/// How long a refused client is told to wait before trying again.
const RETRY: Duration = Duration::from_secs(10);

/// Whom a place counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    /// An anonymous caller's address (an IPv6 address by its /64: one
    /// subscriber usually holds a whole /64).
    Address(IpAddr),
    /// A signed-in caller: `user:NAME` or `token:NAME`.
    Principal(String),
}

impl Holder {
    /// The signed-in caller, else the address the request came from.
    pub fn of(caller: Option<&Principal>, address: IpAddr) -> Self {
        match caller {
            Some(principal) => Holder::Principal(principal.actor.as_str().to_owned()),
            None => Holder::Address(network_of(address)),
        }
    }
}

fn network_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The places of one kind of work, per holder and in all.
#[derive(Debug)]
pub struct Slots {
    /// What the places are for, in the plural: `live event streams`.
    what: &'static str,
    per_client: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    by_holder: HashMap<Holder, usize>,
    total: usize,
}

impl Slots {
    pub fn new(what: &'static str, per_client: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            what,
            per_client,
            total,
            open: Mutex::default(),
        })
    }

    /// A place for `holder`: refused (429) when the holder has its share,
    /// and (503) when the server has its total.
    pub fn take(self: &Arc<Self>, holder: Holder) -> Result<Slot, AppError> {
        let mut open = self.open.lock().expect("slots lock");
        let held = open.by_holder.get(&holder).copied().unwrap_or(0);
        if held >= self.per_client {
            let who = match holder {
                Holder::Address(_) => "your address already has",
                Holder::Principal(_) => "you already have",
            };
            return Err(AppError::TooManyRequests {
                message: format!(
                    "{who} {held} {} open, the most one client may; close one (another tab?) \
                     and try again",
                    self.what
                ),
                retry_after: RETRY,
            });
        }
        if open.total >= self.total {
            return Err(AppError::Busy {
                message: format!(
                    "the server has {} {} open, as many as it may; try again in a moment",
                    open.total, self.what
                ),
                retry_after: RETRY,
            });
        }
        *open.by_holder.entry(holder.clone()).or_default() += 1;
        open.total += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            holder,
        })
    }

    /// Places taken now: in all, and by `holder`.
    pub fn counts(&self, holder: &Holder) -> (usize, usize) {
        let open = self.open.lock().expect("slots lock");
        (open.total, open.by_holder.get(holder).copied().unwrap_or(0))
    }
}

/// A place taken; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    holder: Holder,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("slots lock");
        open.total -= 1;
        if let Some(held) = open.by_holder.get_mut(&self.holder) {
            *held -= 1;
            if *held == 0 {
                open.by_holder.remove(&self.holder);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Holder {
        Holder::Address(network_of(text.parse().unwrap()))
    }

    #[test]
    fn a_client_holds_at_most_its_share_and_gets_it_back() {
        let slots = Slots::new("streams", 2, 10);
        let a = address("192.0.2.1");
        let first = slots.take(a.clone()).unwrap();
        let _second = slots.take(a.clone()).unwrap();
        let refused = slots.take(a.clone()).unwrap_err();
        assert!(
            matches!(refused, AppError::TooManyRequests { .. }),
            "{refused}"
        );
        // Another client is not held back by the first.
        let _other = slots.take(address("192.0.2.2")).unwrap();
        drop(first);
        let _again = slots.take(a.clone()).unwrap();
        assert_eq!(slots.counts(&a), (3, 2));
    }

    #[test]
    fn the_server_holds_at_most_its_total_and_ended_work_frees_its_place() {
        let slots = Slots::new("streams", 5, 3);
        let held: Vec<_> = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
            .into_iter()
            .map(|a| slots.take(address(a)).unwrap())
            .collect();
        let refused = slots.take(address("192.0.2.4")).unwrap_err();
        assert!(matches!(refused, AppError::Busy { .. }), "{refused}");
        drop(held);
        assert_eq!(slots.counts(&address("192.0.2.1")), (0, 0));
        assert!(slots.open.lock().unwrap().by_holder.is_empty());
        slots.take(address("192.0.2.4")).unwrap();
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let slots = Slots::new("streams", 1, 10);
        let _one = slots.take(address("2001:db8:1:2::1")).unwrap();
        assert!(slots.take(address("2001:db8:1:2:ffff::9")).is_err());
        assert!(slots.take(address("2001:db8:1:3::1")).is_ok());
        // A v4-mapped address is the v4 client.
        let _v4 = slots.take(address("192.0.2.9")).unwrap();
        assert!(slots.take(address("::ffff:192.0.2.9")).is_err());
    }
}
