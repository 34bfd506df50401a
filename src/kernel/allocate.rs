//! The `priority` allocation of MODEL.md section 7 for one period.
//!
//! Pools are walked in the key order `(marginal cost, reserved before market,
//! provider file order)`: every reserved pool (cost 0) in provider order,
//! then market pools by price (ties by provider order). Each workload, in
//! order of fewest allowed providers (ties by file order), walks its allowed
//! pools in three passes: providers below an active `min_share` target (up to
//! the target), first-refusal providers that took the offer, then everyone.
//! Every take is `min(remaining demand, pool left, provider cap left)`.

use crate::model::MAX_PROVIDERS;

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
    /// Out: GPUs served per provider (see [`allocate`] and
    /// [`allocate_with`]), and unmet per workload.
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

/// One pass of workload `w` over its pools in `mask`. `CAPS`: some provider
/// has a `max_share` cap or this is the `min_share` pass (otherwise the
/// limit is infinite and is not computed). `TRACK`: the GPUs served so far
/// are kept per provider (some pass needs them for a limit).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn walk<O: TakeObserver, const CAPS: bool, const TRACK: bool>(
    w: usize,
    mask: u64,
    pass: u8,
    rem: &mut f64,
    open: &mut Open,
    p: &mut Period<'_>,
    np: usize,
    obs: &mut O,
) {
    let mut t = Taker::<O, CAPS, TRACK> {
        w,
        pass,
        served: &mut p.served_p[..np],
        cap: &p.cap[..np],
        target: &p.target[..np],
        obs,
    };
    // Reserved pools first (cost 0), in provider order.
    let left = &mut p.reserved_left[..np];
    let mut bits = mask & open.reserved;
    while bits != 0 {
        if *rem <= 0.0 {
            return;
        }
        let q = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        t.take(q, left, &mut open.reserved, true, rem);
    }
    let bits = mask & open.market;
    if bits == 0 {
        return;
    }
    let left = &mut p.market_left[..np];
    for &q in p.order_p {
        if *rem <= 0.0 {
            return;
        }
        if bits & (1u64 << q) != 0 {
            t.take(q, left, &mut open.market, false, rem);
        }
    }
}

/// What one pass needs to take from a pool.
struct Taker<'a, O, const CAPS: bool, const TRACK: bool> {
    w: usize,
    pass: u8,
    served: &'a mut [f64],
    cap: &'a [f64],
    target: &'a [f64],
    obs: &'a mut O,
}

impl<O: TakeObserver, const CAPS: bool, const TRACK: bool> Taker<'_, O, CAPS, TRACK> {
    /// Takes `min(remaining demand, pool left, provider limit)` from pool
    /// `q` of `left`, and closes it in `open` when it empties.
    #[inline(always)]
    fn take(&mut self, q: usize, left: &mut [f64], open: &mut u64, reserved: bool, rem: &mut f64) {
        let mut take = min(*rem, left[q]);
        if CAPS {
            let mut lim = self.cap[q] - self.served[q];
            if self.pass == 1 {
                lim = min(lim, self.target[q] - self.served[q]);
            }
            take = min(take, lim);
        }
        if take > 0.0 {
            left[q] -= take;
            if TRACK {
                self.served[q] += take;
            }
            *rem -= take;
            if left[q] <= 0.0 {
                *open &= !(1u64 << q);
            }
            self.obs.take(self.w, q, reserved, self.pass, take);
        }
    }
}

/// Bit `q` set where `test(v[q])`.
#[inline(always)]
pub(crate) fn mask(v: &[f64], test: impl Fn(f64) -> bool) -> u64 {
    v.iter()
        .enumerate()
        .fold(0, |m, (q, &x)| m | ((test(x) as u64) << q))
}

/// The share rules' part of [`Masks`]: providers with a `min_share` target
/// (`target >= 0`) and whether any has a `max_share` cap (`cap` finite).
#[inline(always)]
pub(crate) fn share_masks(target: &[f64], cap: &[f64]) -> (u64, bool) {
    let capped = cap.iter().fold(false, |c, &x| c | (x != f64::INFINITY));
    (mask(target, |x| x >= 0.0), capped)
}

/// What the passes need to know before they start, as provider bitmasks:
/// providers with an active `min_share` target (`target >= 0`), whether any
/// has a `max_share` cap (`cap` finite), and the pools that are not empty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Masks {
    pub min: u64,
    pub capped: bool,
    pub reserved: u64,
    pub market: u64,
}

impl Masks {
    /// The masks read off a period's arrays.
    #[inline(always)]
    pub fn of(p: &Period<'_>) -> Masks {
        let np = p.served_p.len();
        let (min, capped) = share_masks(&p.target[..np], &p.cap[..np]);
        Masks {
            min,
            capped,
            reserved: mask(&p.reserved_left[..np], |x| x > 0.0),
            market: mask(&p.market_left[..np], |x| x > 0.0),
        }
    }
}

/// Runs the three passes for every workload. `served_p` is what each
/// provider's pools gave: their capacity less what is left, as the kernel
/// reports it.
pub fn allocate<O: TakeObserver>(p: &mut Period<'_>, obs: &mut O) {
    let masks = Masks::of(p);
    let np = p.served_p.len();
    let (mut reserved, mut market) = ([0.0; MAX_PROVIDERS], [0.0; MAX_PROVIDERS]);
    reserved[..np].copy_from_slice(&p.reserved_left[..np]);
    market[..np].copy_from_slice(&p.market_left[..np]);
    allocate_with(p, masks, obs);
    for q in 0..np {
        p.served_p[q] = (reserved[q] - p.reserved_left[q]) + (market[q] - p.market_left[q]);
    }
}

/// [`allocate`] with the masks given: the kernel knows them from how it
/// filled the period's arrays (they must be `Masks::of` those arrays).
/// Inlined into each of the kernel's copies, where the number of providers
/// is a constant. `served_p` is kept only where a share rule needs it
/// (otherwise left as it was): the caller computes what was served from
/// the pools.
#[inline(always)]
pub fn allocate_with<O: TakeObserver>(p: &mut Period<'_>, masks: Masks, obs: &mut O) {
    debug_assert_eq!(masks, Masks::of(p));
    let np = p.served_p.len();
    let mut open = Open {
        reserved: masks.reserved,
        market: masks.market,
    };
    if masks.capped || masks.min != 0 {
        p.served_p[..np].iter_mut().for_each(|x| *x = 0.0);
        if masks.capped {
            passes::<O, true, true>(p, masks.min, &mut open, np, obs)
        } else {
            passes::<O, false, true>(p, masks.min, &mut open, np, obs)
        }
    } else {
        passes::<O, false, false>(p, 0, &mut open, np, obs)
    }
}

#[inline(always)]
fn passes<O: TakeObserver, const CAPS: bool, const TRACK: bool>(
    p: &mut Period<'_>,
    min_mask: u64,
    open: &mut Open,
    np: usize,
    obs: &mut O,
) {
    for i in 0..p.order_w.len() {
        let w = p.order_w[i];
        let mut rem = p.demand[w];
        let allowed = p.allowed[w];
        if rem > 0.0 {
            if min_mask & allowed != 0 {
                walk::<O, true, true>(w, min_mask & allowed, 1, &mut rem, open, p, np, obs);
            }
            let p2 = p.pass2[w] & allowed;
            if p2 != 0 {
                walk::<O, CAPS, TRACK>(w, p2, 2, &mut rem, open, p, np, obs);
            }
            walk::<O, CAPS, TRACK>(w, allowed, 3, &mut rem, open, p, np, obs);
        }
        p.unmet[w] = rem.max(0.0);
    }
}
