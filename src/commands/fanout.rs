//! Requests to several members at once, on the current-thread runtime: at most [`PARALLEL`] in
//! flight, results handed over in member order (`futures_util`'s `buffered`). patronictl asks members
//! one after another; a slow member then delays every other. Nothing is spawned: the futures are
//! polled on the current task.

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;

/// At most this many requests in flight at once.
pub const PARALLEL: usize = 8;

/// A boxed request future borrowing the cluster and the REST client.
pub type Job<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Run the jobs with at most [`PARALLEL`] at a time, handing each result to `ready` in job order as
/// soon as it and every earlier job have finished.
pub async fn in_parallel<'a, T>(jobs: Vec<Job<'a, T>>, mut ready: impl FnMut(T)) {
    let mut results = futures_util::stream::iter(jobs).buffered(PARALLEL);
    while let Some(v) = results.next().await {
        ready(v);
    }
}

/// Run the futures (at most [`PARALLEL`] at a time) and return their outputs in order.
pub async fn join_all<'a, F: Future + 'a>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    futures_util::stream::iter(futures)
        .buffered(PARALLEL)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_come_in_job_order_and_overlap() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = std::time::Instant::now();
        let out = rt.block_on(join_all((0..20u64).map(|i| async move {
            tokio::time::sleep(Duration::from_millis(100 - i * 4)).await;
            i
        })));
        assert_eq!(out, (0..20).collect::<Vec<_>>());
        // 20 jobs of ≤100 ms, 8 at a time: about 3 rounds, far less than 20 in sequence.
        assert!(
            start.elapsed() < Duration::from_millis(900),
            "{:?}",
            start.elapsed()
        );
    }
}
