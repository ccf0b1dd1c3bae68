//! The team prior: what a team's resolved incidents say about how often each cause happens to
//! *them*, folded into the engine's diagnosis as a bounded Bayesian update.
//!
//! The engine's posterior `p(c)` already contains the global prior `π(c)` (the corpus base
//! rates in `rules/calibration.toml`). A team's resolved incidents are counts `n(c)` out of `N`.
//! With a Dirichlet prior of `A` pseudo-counts spread as `π`, the team's base rate is the
//! posterior mean `q(c) = (n(c) + A·π(c)) / (N + A)`. Swapping the global prior for the team's
//! multiplies each cause by `q(c)/π(c)` before renormalising. That ratio is capped to
//! `[1/R, R]`: a team with ten resolved "wrong-config" incidents should lean towards it, not let
//! its history outvote the log. With every ratio in `[1/R, R]` the odds of any cause change by
//! at most `R²`, so its probability moves by at most `(R − 1)/(R + 1)` (the largest change an
//! odds factor `k` can make is `(√k − 1)/(√k + 1)`, at `p = 1/(1 + √k)`).

use std::collections::BTreeMap;

/// Pseudo-counts of the Dirichlet prior: a team needs about this many resolved incidents
/// before its own history weighs as much as the corpus base rates.
pub const PSEUDO_COUNTS: f64 = 20.0;
/// The cap on the prior ratio `q(c)/π(c)`.
pub const MAX_RATIO: f64 = 1.5;

/// The most the team prior can move any cause's probability: `(R − 1)/(R + 1)` = 0.2.
pub fn max_shift() -> f64 {
    (MAX_RATIO - 1.0) / (MAX_RATIO + 1.0)
}

/// A team's prior ratios, from its resolved incidents.
#[derive(Debug, Clone)]
pub struct TeamPrior {
    /// Resolved incidents counted (`N`).
    pub resolved: u64,
    /// `q(c)/π(c)` capped, for every cause of the global prior.
    ratios: BTreeMap<String, f64>,
}

/// One cause after the update.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjusted {
    pub cause: String,
    /// The engine's probability (with the global prior).
    pub engine: f64,
    /// The capped prior ratio applied to it.
    pub ratio: f64,
    /// The probability with the team's prior.
    pub team: f64,
}

impl TeamPrior {
    /// `global`: the engine's base rates by cause (any positive weights; normalised here).
    /// `resolved`: the team's resolved incidents by cause; causes the global prior does not
    /// know are ignored (they have no base rate to compare with).
    pub fn new(global: &BTreeMap<String, f64>, resolved: &BTreeMap<String, u64>) -> TeamPrior {
        let total_weight: f64 = global.values().filter(|w| **w > 0.0).sum();
        let n: u64 = resolved
            .iter()
            .filter(|(c, _)| global.contains_key(*c))
            .map(|(_, k)| *k)
            .sum();
        let ratios = global
            .iter()
            .filter(|(_, w)| **w > 0.0)
            .map(|(cause, w)| {
                let pi = w / total_weight;
                let k = resolved.get(cause).copied().unwrap_or(0) as f64;
                let q = (k + PSEUDO_COUNTS * pi) / (n as f64 + PSEUDO_COUNTS);
                (cause.clone(), (q / pi).clamp(1.0 / MAX_RATIO, MAX_RATIO))
            })
            .collect();
        TeamPrior {
            resolved: n,
            ratios,
        }
    }

    /// The ratio for a cause (1 for a cause without a base rate).
    pub fn ratio(&self, cause: &str) -> f64 {
        self.ratios.get(cause).copied().unwrap_or(1.0)
    }

    /// Apply the team prior to the engine's ranked causes. The engine lists its top causes;
    /// the probability it leaves out is kept as one "other" block with ratio 1, so the update
    /// never inflates the listed causes by forgetting the rest. Sorted by the team value.
    pub fn apply(&self, engine: &[(String, f64)]) -> Vec<Adjusted> {
        let listed: f64 = engine.iter().map(|(_, p)| p.max(0.0)).sum();
        let other = (1.0 - listed).max(0.0);
        let weighted: Vec<(String, f64, f64)> = engine
            .iter()
            .map(|(c, p)| (c.clone(), p.max(0.0), self.ratio(c)))
            .collect();
        let z: f64 = weighted.iter().map(|(_, p, r)| p * r).sum::<f64>() + other;
        if z <= 0.0 {
            return vec![];
        }
        let mut out: Vec<Adjusted> = weighted
            .into_iter()
            .map(|(cause, p, r)| Adjusted {
                cause,
                engine: p,
                ratio: r,
                team: p * r / z,
            })
            .collect();
        out.sort_by(|a, b| b.team.total_cmp(&a.team));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> BTreeMap<String, f64> {
        [
            ("probe-not-found", 3.0),
            ("wrong-config", 1.0),
            ("usb-permission", 1.0),
            ("unknown", 0.5),
        ]
        .into_iter()
        .map(|(c, w)| (c.to_string(), w))
        .collect()
    }

    #[test]
    fn no_history_changes_nothing() {
        let prior = TeamPrior::new(&global(), &BTreeMap::new());
        let engine = vec![
            ("probe-not-found".to_string(), 0.6),
            ("wrong-config".to_string(), 0.3),
        ];
        for a in prior.apply(&engine) {
            assert!((a.team - a.engine).abs() < 1e-12, "{a:?}");
            assert_eq!(a.ratio, 1.0);
        }
    }

    #[test]
    fn history_leans_towards_the_teams_causes_within_the_bound() {
        let resolved: BTreeMap<String, u64> = [("wrong-config".to_string(), 40)].into();
        let prior = TeamPrior::new(&global(), &resolved);
        assert_eq!(prior.resolved, 40);
        // Forty resolved wrong-config incidents: far above the base rate, so the ratio is capped.
        assert_eq!(prior.ratio("wrong-config"), MAX_RATIO);
        assert!(prior.ratio("probe-not-found") < 1.0);
        let engine = vec![
            ("probe-not-found".to_string(), 0.5),
            ("wrong-config".to_string(), 0.4),
        ];
        let adjusted = prior.apply(&engine);
        assert_eq!(adjusted[0].cause, "wrong-config");
        assert!(adjusted[0].team > 0.4);
    }

    #[test]
    fn no_cause_moves_more_than_the_bound() {
        // Deterministic sweep over extreme histories and posteriors.
        let causes = [
            "probe-not-found",
            "wrong-config",
            "usb-permission",
            "unknown",
        ];
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut largest: f64 = 0.0;
        for _ in 0..2000 {
            let resolved: BTreeMap<String, u64> = causes
                .iter()
                .map(|c| (c.to_string(), (next() * next() * 500.0) as u64))
                .collect();
            let prior = TeamPrior::new(&global(), &resolved);
            let mut raw: Vec<f64> = causes.iter().map(|_| next().powi(3)).collect();
            let s: f64 = raw.iter().sum::<f64>() / next().max(0.5);
            raw.iter_mut().for_each(|p| *p /= s);
            let engine: Vec<(String, f64)> =
                causes.iter().map(|c| c.to_string()).zip(raw).collect();
            for a in prior.apply(&engine) {
                largest = largest.max((a.team - a.engine).abs());
            }
        }
        assert!(largest <= max_shift() + 1e-12, "{largest}");
        assert!(
            largest > max_shift() * 0.5,
            "the sweep should come near the bound: {largest}"
        );
    }
}
