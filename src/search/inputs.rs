//! A domain's architectures as a predictor reads them: each feature set's table computed once for the
//! whole dataset and shared by every seed and round of a study (a guided search refits and rescores
//! every round). Datasets larger than [`CACHE_LIMIT`] (the full NB101 space) are featurised on demand,
//! only for the rows asked.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::features::{self, FeatureSet, Featurize, Table};
use crate::predictor::Inputs;
use crate::ranker::samples::Samples;
use crate::space::SpaceKind;

/// Datasets up to this many architectures have their feature tables cached whole.
pub const CACHE_LIMIT: usize = 50_000;

/// The feature tables of a dataset's architectures built into one network.
pub struct FeatureCache<'a, S: Featurize> {
    archs: &'a [S::Arch],
    network: S::Network,
    tables: Mutex<HashMap<FeatureSet, Arc<Table>>>,
}

impl<'a, S: Featurize> FeatureCache<'a, S> {
    pub fn new(archs: &'a [S::Arch], network: S::Network) -> FeatureCache<'a, S> {
        FeatureCache { archs, network, tables: Mutex::new(HashMap::new()) }
    }

    /// The architectures at dataset positions `rows`, as predictor inputs.
    pub fn rows<'r>(&'r self, rows: &'r [usize]) -> Rows<'r, 'a, S> {
        Rows { cache: self, rows }
    }

    /// One set's table for every architecture (computed on first use).
    fn whole(&self, set: FeatureSet) -> Result<Arc<Table>> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = tables.get(&set) {
            return Ok(t.clone());
        }
        let t = Arc::new(features::table::<S>(self.archs, self.network, &[set])?);
        tables.insert(set, t.clone());
        Ok(t)
    }

    fn table(&self, rows: &[usize], sets: &[FeatureSet]) -> Result<Table> {
        if self.archs.len() > CACHE_LIMIT {
            let archs: Vec<S::Arch> = rows.iter().map(|&r| self.archs[r]).collect();
            return features::table::<S>(&archs, self.network, sets);
        }
        let parts: Vec<Arc<Table>> = sets.iter().map(|&s| self.whole(s)).collect::<Result<_>>()?;
        let cols = parts.iter().map(|t| t.cols).sum();
        let mut data = Vec::with_capacity(rows.len() * cols);
        for &r in rows {
            for t in &parts {
                data.extend_from_slice(t.row(r));
            }
        }
        Ok(Table { rows: rows.len(), cols, data })
    }
}

/// Some rows of a [`FeatureCache`].
pub struct Rows<'r, 'a, S: Featurize> {
    cache: &'r FeatureCache<'a, S>,
    rows: &'r [usize],
}

impl<S: Featurize> Inputs for Rows<'_, '_, S> {
    fn space(&self) -> SpaceKind {
        S::KIND
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn table(&self, sets: &[FeatureSet]) -> Result<Table> {
        self.cache.table(self.rows, sets)
    }
    fn samples(&self, rows: Range<usize>, y: &[f64]) -> Samples {
        let archs: Vec<S::Arch> = self.rows[rows].iter().map(|&r| self.cache.archs[r]).collect();
        Samples::from_archs::<S>(&archs, self.cache.network, y)
    }
}
