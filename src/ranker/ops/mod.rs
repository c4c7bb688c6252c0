//! The few kernels the ranker is made of, each with its forward and backward pass, written for one
//! element type `T` (`f32` for training, `f64` for gradient checks), one file per kernel family. Matrix
//! products go to the `gemm` crate; everything else is plain loops, parallel over rows where it pays.
//!
//! Every reduction runs in a fixed order, and dropout masks come from a counter-based hash of
//! `(seed, tensor, index)`, so results do not depend on the number of threads.
//!
//! - [`real`]: the `Real` trait (f32, f64), `dot` and `sum`;
//! - [`profile`]: per-kernel wall time under `NAR_PROFILE`;
//! - [`matmul`]: large products (`gemm`), small strided ones, the bias gradient's column sum;
//! - [`linear`]: fully connected layers and ReLU;
//! - [`norm`]: layer norm;
//! - [`dropout`]: the masks;
//! - [`attention`]: multi-head scaled dot-product attention.

pub mod attention;
pub mod dropout;
pub mod linear;
pub mod matmul;
pub mod norm;
pub mod profile;
pub mod real;

pub use attention::{AttnGrads, AttnSaved, AttnShape, attention_bwd, attention_fwd, attention_infer, attention_values};
pub use dropout::Dropout;
pub use linear::{LinearGrads, LinearShape, linear_bwd, linear_fwd, linear_relu_fwd, relu, relu_bwd};
pub use matmul::{Accumulate, Trans, matmul};
pub use norm::{add_layernorm, layernorm_apply, layernorm_bwd, layernorm_fwd};
pub use real::Real;
