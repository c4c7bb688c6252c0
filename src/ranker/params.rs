//! The ranker's parameters: one flat buffer, tensors addressed by id, named and shaped as in the
//! reference PyTorch model's `state_dict`.

use super::ops::Real;
use crate::rng::Rng;

/// How a tensor is initialised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Xavier (Glorot) uniform, as the reference applies to every parameter of rank > 1.
    Xavier,
    /// PyTorch's default `Linear` bias: uniform in ±1/√fan_in.
    Bias {
        fan_in: usize,
    },
    Ones,
    Zeros,
}

/// All parameters of a model.
#[derive(Clone, Debug, Default)]
pub struct Params<T> {
    pub names: Vec<String>,
    pub shapes: Vec<Vec<usize>>,
    pub inits: Vec<Init>,
    pub offsets: Vec<usize>,
    pub data: Vec<T>,
}

impl<T: Real> Params<T> {
    pub fn new() -> Params<T> {
        Params { names: vec![], shapes: vec![], inits: vec![], offsets: vec![], data: vec![] }
    }

    /// Registers a tensor (zeros until [`Params::initialise`]) and returns its id.
    pub fn add(&mut self, name: &str, shape: &[usize], init: Init) -> usize {
        let n: usize = shape.iter().product();
        self.names.push(name.to_string());
        self.shapes.push(shape.to_vec());
        self.inits.push(init);
        self.offsets.push(self.data.len());
        self.data.resize(self.data.len() + n, T::ZERO);
        self.names.len() - 1
    }

    /// Number of tensors.
    pub fn count(&self) -> usize {
        self.names.len()
    }

    /// Total number of values.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    fn range(&self, id: usize) -> std::ops::Range<usize> {
        let n: usize = self.shapes[id].iter().product();
        self.offsets[id]..self.offsets[id] + n
    }

    pub fn get(&self, id: usize) -> &[T] {
        &self.data[self.range(id)]
    }

    pub fn get_mut(&mut self, id: usize) -> &mut [T] {
        let r = self.range(id);
        &mut self.data[r]
    }

    /// The slice of a gradient buffer (same layout) that belongs to tensor `id`.
    pub fn grad_mut<'g>(&self, g: &'g mut [T], id: usize) -> &'g mut [T] {
        &mut g[self.range(id)]
    }

    /// Two distinct tensors' gradient slices at once.
    pub fn grad_pair<'g>(&self, g: &'g mut [T], a: usize, b: usize) -> (&'g mut [T], &'g mut [T]) {
        let (ra, rb) = (self.range(a), self.range(b));
        assert!(ra.end <= rb.start || rb.end <= ra.start, "distinct tensors");
        if ra.start < rb.start {
            let (lo, hi) = g.split_at_mut(rb.start);
            (&mut lo[ra], &mut hi[..rb.len()])
        } else {
            let (lo, hi) = g.split_at_mut(ra.start);
            let len = ra.len();
            (&mut hi[..len], &mut lo[rb])
        }
    }

    /// Id of the tensor called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Draws every tensor from its initialiser, in registration order, from `seed`.
    pub fn initialise(&mut self, seed: u64) {
        let mut rng = Rng::new(seed);
        for id in 0..self.count() {
            let shape = self.shapes[id].clone();
            let init = self.inits[id];
            let slot = self.get_mut(id);
            match init {
                Init::Ones => slot.fill(T::ONE),
                Init::Zeros => slot.fill(T::ZERO),
                Init::Xavier => {
                    let (fan_out, fan_in) = (shape[0], shape[1..].iter().product::<usize>());
                    let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                    slot.iter_mut().for_each(|v| *v = T::from_f64((rng.uniform() * 2.0 - 1.0) * a));
                }
                Init::Bias { fan_in } => {
                    let a = 1.0 / (fan_in as f64).sqrt();
                    slot.iter_mut().for_each(|v| *v = T::from_f64((rng.uniform() * 2.0 - 1.0) * a));
                }
            }
        }
    }
}
