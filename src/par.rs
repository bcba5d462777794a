//! Work split over the machine's cores, for the fleet-sized reads (`list --all` over thousands of
//! clusters): the items are independent of each other and the results come back in their order.
//! Small inputs stay on the calling thread (starting a thread costs more than they do).

/// The most threads used, whatever the machine has.
const MAX_THREADS: usize = 8;

/// `items.iter().map(f).collect()`, split over the available cores when there are at least
/// `min_items` items; the results keep the items' order, and a panic in `f` goes on in the caller.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    min_items: usize,
    f: &(dyn Fn(&T) -> R + Sync),
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
    if items.len() < min_items.max(2) || threads < 2 {
        return items.iter().map(f).collect();
    }
    let mut parts = items.chunks(items.len().div_ceil(threads));
    let first = parts.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = parts
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for handle in others {
            let part = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            out.extend(part);
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::map_in_order;

    #[test]
    fn results_keep_the_items_order_small_or_split() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = |x: &u32| x * 2;
        let want: Vec<u32> = items.iter().map(doubled).collect();
        assert_eq!(map_in_order(&items, 1, &doubled), want);
        assert_eq!(map_in_order(&items, 5000, &doubled), want);
        assert_eq!(map_in_order(&items[..1], 1, &doubled), vec![0]);
        assert!(map_in_order(&items[..0], 1, &doubled).is_empty());
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<u32> = (0..100).collect();
        let r = std::panic::catch_unwind(|| {
            map_in_order(&items, 1, &|x: &u32| {
                assert!(*x != 99, "boom");
                *x
            })
        });
        assert!(r.is_err());
    }
}
