//! The `priority` allocation of MODEL.md section 7 for one period.
//!
//! Pools are walked in the key order `(marginal cost, reserved before market,
//! provider file order)`: every reserved pool (cost 0) in provider order,
//! then market pools by price (ties by provider order). Each workload, in
//! order of fewest allowed providers (ties by file order), walks its allowed
//! pools in three passes: providers below an active `min_share` target (up to
//! the target), first-refusal providers that took the offer, then everyone.
//! Every take is `min(remaining demand, pool left, provider cap left)`.

/// Observes every take (for `capsim trace`); the kernel passes a no-op.
pub trait TakeObserver {
    #[inline(always)]
    fn take(&mut self, _w: usize, _p: usize, _reserved: bool, _pass: u8, _gpus: f64) {}
}

pub struct NoTakes;
impl TakeObserver for NoTakes {}

/// Inputs and outputs of one period's allocation, in caller-owned buffers.
pub struct Period<'a> {
    /// Demand to serve per workload (backlog included).
    pub demand: &'a [f64],
    /// Allowed providers per workload (bit p).
    pub allowed: &'a [u64],
    /// First-refusal providers that took the offer, per workload (bit p).
    pub pass2: &'a [u64],
    /// Workload service order.
    pub order_w: &'a [usize],
    /// Market pools' provider order (by price, then provider index).
    pub order_p: &'a [usize],
    /// `min_share` target in GPUs per provider (negative = none).
    pub target: &'a [f64],
    /// `max_share` cap in GPUs per provider (infinite = none).
    pub cap: &'a [f64],
    /// Pools left (in: capacity; out: what is left).
    pub reserved_left: &'a mut [f64],
    pub market_left: &'a mut [f64],
    /// Out: GPUs served per provider, and unmet per workload.
    pub served_p: &'a mut [f64],
    pub unmet: &'a mut [f64],
}

/// The smaller of two quantities. Quantities are never NaN here, and a plain
/// comparison is cheaper than `f64::min`'s NaN handling in this hot loop;
/// zero takes are skipped whatever the sign of the zero.
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Pools with capacity left, as provider bitmasks (reserved, market): the
/// walks skip empty pools without looking at them.
struct Open {
    reserved: u64,
    market: u64,
}

#[inline]
fn walk<O: TakeObserver>(
    w: usize,
    mask: u64,
    pass: u8,
    rem: &mut f64,
    open: &mut Open,
    p: &mut Period<'_>,
    obs: &mut O,
) {
    // Reserved pools first (cost 0), in provider order.
    let mut bits = mask & open.reserved;
    while bits != 0 {
        if *rem <= 0.0 {
            return;
        }
        let q = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        let mut lim = p.cap[q] - p.served_p[q];
        if pass == 1 {
            lim = min(lim, p.target[q] - p.served_p[q]);
        }
        let take = min(min(*rem, p.reserved_left[q]), lim);
        if take > 0.0 {
            p.reserved_left[q] -= take;
            p.served_p[q] += take;
            *rem -= take;
            if p.reserved_left[q] <= 0.0 {
                open.reserved &= !(1u64 << q);
            }
            obs.take(w, q, true, pass, take);
        }
    }
    let bits = mask & open.market;
    if bits == 0 {
        return;
    }
    for &q in p.order_p {
        if *rem <= 0.0 {
            return;
        }
        if bits & (1u64 << q) == 0 {
            continue;
        }
        let mut lim = p.cap[q] - p.served_p[q];
        if pass == 1 {
            lim = min(lim, p.target[q] - p.served_p[q]);
        }
        let take = min(min(*rem, p.market_left[q]), lim);
        if take > 0.0 {
            p.market_left[q] -= take;
            p.served_p[q] += take;
            *rem -= take;
            if p.market_left[q] <= 0.0 {
                open.market &= !(1u64 << q);
            }
            obs.take(w, q, false, pass, take);
        }
    }
}

/// Runs the three passes for every workload.
pub fn allocate<O: TakeObserver>(p: &mut Period<'_>, obs: &mut O) {
    p.served_p.iter_mut().for_each(|x| *x = 0.0);
    // Providers with an active min_share target, and pools not empty.
    let mut min_mask = 0u64;
    let mut open = Open {
        reserved: 0,
        market: 0,
    };
    for q in 0..p.served_p.len() {
        let bit = 1u64 << q;
        if p.target[q] >= 0.0 {
            min_mask |= bit;
        }
        if p.reserved_left[q] > 0.0 {
            open.reserved |= bit;
        }
        if p.market_left[q] > 0.0 {
            open.market |= bit;
        }
    }
    for i in 0..p.order_w.len() {
        let w = p.order_w[i];
        let mut rem = p.demand[w];
        let allowed = p.allowed[w];
        if rem > 0.0 {
            if min_mask & allowed != 0 {
                walk(w, min_mask & allowed, 1, &mut rem, &mut open, p, obs);
            }
            if p.pass2[w] & allowed != 0 {
                walk(w, p.pass2[w] & allowed, 2, &mut rem, &mut open, p, obs);
            }
            walk(w, allowed, 3, &mut rem, &mut open, p, obs);
        }
        p.unmet[w] = rem.max(0.0);
    }
}

/// Stable insertion sort of `idx` by `key` (then by index): O(n) when the
/// order barely changes between periods, as prices and rule sets do.
#[inline]
pub fn sort_by_key(idx: &mut [usize], key: impl Fn(usize) -> (f64, usize)) {
    for i in 1..idx.len() {
        let x = idx[i];
        let kx = key(x);
        let mut j = i;
        while j > 0 {
            let ky = key(idx[j - 1]);
            if ky.0 > kx.0 || (ky.0 == kx.0 && ky.1 > kx.1) {
                idx[j] = idx[j - 1];
                j -= 1;
            } else {
                break;
            }
        }
        idx[j] = x;
    }
}
