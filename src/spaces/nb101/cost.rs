//! NAS-Bench-101 network and per-vertex cost.
//!
//! Network: stem conv3x3 (3→128, BN, ReLU) at 32×32; 3 stacks × 3 cells; before stacks 2 and 3 a 2×2
//! stride-2 max-pool halves the resolution and the channel count doubles (128 → 256 → 512); global
//! average pool; dense 512→10.
//!
//! Inside a cell with `C_in` input and `C_out` output channels (NAS-Bench-101's `model_builder`):
//! - the `k` interior vertices that feed the output get `C_out / k` channels each, the first `C_out % k`
//!   of them one more; going backwards, every other interior vertex gets the largest channel count of
//!   its interior successors;
//! - an interior vertex's input is the sum of its interior predecessors (truncated to its channels) and,
//!   with an edge from the input, a 1×1 conv-BN-ReLU projection of the cell input;
//! - the output concatenates the vertices that feed it; an input→output edge adds a projection of the
//!   input to `C_out` (or is the whole output when no interior vertex feeds it).
//!
//! Per-vertex values, as in NAR's data (verified on all 63 vertices of its example):
//! - params: a k×k conv from `c_in` to `c_out` has `k·k·c_in·c_out + 2·c_out` (no conv bias; BN scale
//!   and shift); the input projection is counted in the vertex it feeds. Max-pool: 0.
//! - FLOPs: 2 × multiply-accumulates per conv (projection included); 3×3 max-pool 9 × output elements;
//!   a sum of `n > 1` inputs `(n − 1)` × elements; BN and ReLU 0.
//! - Worked example, first cell of NAR's example (C = 128, every vertex 64 channels at 32×32): vertex 1
//!   (conv3x3 with projection) has params 128·64+128 + 9·64·64+128 = 45,312 and FLOPs
//!   2·(32·32·128·64) + 2·(32·32·9·64·64) = 92,274,688; vertex 5 (conv1x1 fed by the projection and two
//!   vertices) 16,777,216 + 8,388,608 + 2·65,536 = 25,296,896 FLOPs.
//! - The input vertex is 0. The output vertex is 0 unless the cell has an input→output edge; then it
//!   carries that projection (params and FLOPs) and, if it is added to a concatenation, the addition
//!   (`C_out` × elements). NAR's example has no such edge, so this attribution is our choice; it keeps
//!   Σ vertex params + stem + dense = NAS-Bench-101's `trainable_parameters` for every cell.
//!
//! Totals:
//! - `trainable_parameters` = Σ vertex params + stem (3·3·3·128 + 256 = 3,712) + dense (512·10 + 10 =
//!   5,130): 8,555,530 for the example, as NAS-Bench-101 reports.
//! - `flops` = Σ vertex FLOPs + stem conv (2 × MACs; its BN counts 0) + the two 2×2 down-sampling
//!   max-pools (4 × output elements) + global average pool (input elements) + dense (2 × MACs + bias):
//!   2,520,367,104 + 7,077,888 + 131,072 + 65,536 + 32,768 + 10,240 + 10 = 2,527,684,618 for the example,
//!   exactly NAR's `flops`. Pools count kernel area × output elements throughout.

use super::{Cell, MAX_VERTICES, Op};
use crate::cost::{CellCost, NetworkCost, conv_bn_params};

/// Stem output channels.
pub const STEM_CHANNELS: u64 = 128;
/// Input resolution (CIFAR-10).
pub const RESOLUTION: u64 = 32;
/// Number of stacks and cells per stack.
pub const NUM_STACKS: usize = 3;
pub const CELLS_PER_STACK: usize = 3;
/// Classes of CIFAR-10.
pub const NUM_CLASSES: u64 = 10;

/// NAR's keys of the nine cells, in network order.
pub const CELL_KEYS: [&str; NUM_STACKS * CELLS_PER_STACK] = [
    "stack0/module0",
    "stack0/module1",
    "stack0/module2",
    "stack1/module0",
    "stack1/module1",
    "stack1/module2",
    "stack2/module0",
    "stack2/module1",
    "stack2/module2",
];

/// Channels of every vertex of a cell (NAS-Bench-101's `compute_vertex_channels`).
pub fn vertex_channels(cell: &Cell, c_in: u64, c_out: u64) -> [u64; MAX_VERTICES] {
    let n = cell.num_vertices();
    let out = n - 1;
    let mut ch = [0u64; MAX_VERTICES];
    ch[0] = c_in;
    ch[out] = c_out;
    if n == 2 {
        return ch;
    }
    let feeders = (1..out).filter(|&v| cell.has_edge(v, out)).count() as u64;
    let base = c_out / feeders;
    let mut extra = c_out % feeders;
    for (v, c) in ch.iter_mut().enumerate().take(out).skip(1) {
        if cell.has_edge(v, out) {
            *c = base;
            if extra > 0 {
                *c += 1;
                extra -= 1;
            }
        }
    }
    for v in (1..out).rev() {
        if !cell.has_edge(v, out) {
            ch[v] = (v + 1..out).filter(|&d| cell.has_edge(v, d)).map(|d| ch[d]).max().unwrap_or(0);
        }
    }
    ch
}

/// Per-vertex FLOPs and params of one cell with `c_in`/`c_out` channels at `hw` = height × width.
pub fn cell_cost(cell: &Cell, key: &'static str, c_in: u64, c_out: u64, hw: u64) -> CellCost {
    let n = cell.num_vertices();
    let out = n - 1;
    let ch = vertex_channels(cell, c_in, c_out);
    let mut flops = vec![0u64; n];
    let mut params = vec![0u64; n];
    let projection = |c: u64| (conv_bn_params(1, c_in, c), 2 * hw * c_in * c);
    for v in 1..out {
        let c = ch[v];
        let mut inputs = (1..v).filter(|&u| cell.has_edge(u, v)).count() as u64;
        if cell.has_edge(0, v) {
            let (p, f) = projection(c);
            params[v] += p;
            flops[v] += f;
            inputs += 1;
        }
        if inputs > 1 {
            flops[v] += (inputs - 1) * hw * c;
        }
        match cell.ops()[v] {
            Op::Conv3x3 => {
                params[v] += conv_bn_params(3, c, c);
                flops[v] += 2 * hw * 9 * c * c;
            }
            Op::Conv1x1 => {
                params[v] += conv_bn_params(1, c, c);
                flops[v] += 2 * hw * c * c;
            }
            Op::MaxPool3x3 => flops[v] += 9 * hw * c,
            Op::Input | Op::Output => unreachable!("a valid cell has only interior ops inside"),
        }
    }
    if cell.has_edge(0, out) {
        let (p, f) = projection(c_out);
        params[out] += p;
        flops[out] += f;
        if (1..out).any(|v| cell.has_edge(v, out)) {
            flops[out] += hw * c_out;
        }
    }
    CellCost { key, flops, params }
}

/// Cost of the whole NAS-Bench-101 network built from `cell`.
pub fn network_cost(cell: &Cell) -> NetworkCost {
    let mut cells = Vec::with_capacity(CELL_KEYS.len());
    let mut channels = STEM_CHANNELS;
    let mut side = RESOLUTION;
    // Stem: conv3x3 3→128 + BN (BN FLOPs count 0).
    let mut total_params = conv_bn_params(3, 3, STEM_CHANNELS);
    let mut total_flops = 2 * side * side * 9 * 3 * STEM_CHANNELS;
    for stack in 0..NUM_STACKS {
        let mut c_in = channels;
        if stack > 0 {
            side /= 2;
            total_flops += 4 * side * side * channels; // 2×2 max-pool: kernel area × output elements
            channels *= 2;
        }
        for module in 0..CELLS_PER_STACK {
            let cost = cell_cost(cell, CELL_KEYS[stack * CELLS_PER_STACK + module], c_in, channels, side * side);
            total_params += cost.params.iter().sum::<u64>();
            total_flops += cost.flops.iter().sum::<u64>();
            cells.push(cost);
            c_in = channels;
        }
    }
    total_flops += side * side * channels; // global average pool: input elements
    total_flops += 2 * channels * NUM_CLASSES + NUM_CLASSES; // dense: 2 × MACs + bias
    total_params += channels * NUM_CLASSES + NUM_CLASSES;
    NetworkCost { cells, total_flops, total_params }
}
