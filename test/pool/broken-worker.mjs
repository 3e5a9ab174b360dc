// A worker script that fails as it loads, as a stale or half-copied build does: every task sent to
// it must fail with the worker's own error in its message.
throw new TypeError('the worker script failed to load on purpose');
