//! NAS-Bench-201 network and per-edge cost.
//!
//! Network: stem conv3x3 (3→16) + BN; 5 cells with C = 16; residual block (16→32, stride 2); 5 cells
//! with C = 32; residual block (32→64, stride 2); 5 cells with C = 64; BN + ReLU; global average pool;
//! linear 64→classes. Input 32×32 (CIFAR-10/100) or 16×16 (ImageNet16-120). A residual block is
//! ReLU-conv3x3(stride 2)-BN, ReLU-conv3x3-BN, and a shortcut of 2×2 avg-pool then conv1x1 (no BN).
//! Cell ops are ReLU-conv-BN; with equal channels `skip_connect` and `avg_pool_3x3` have no parameters.
//!
//! Per edge, as in NAR's data (verified on every cell of its example): params = conv weights + 2·C (BN);
//! FLOPs = params × output H × W; `none`, `skip_connect`, `avg_pool_3x3` are 0. Worked example: CIFAR,
//! C = 16, conv1x1: 16·16 + 32 = 288 params, 288 · 32·32 = 294,912 FLOPs.
//!
//! Totals (all six totals of NAR's example, e.g. CIFAR-10 16,315,008 FLOPs / 129,306 params,
//! ImageNet16-120 4,086,272 / 136,456): params count every weight, BN scale/shift and the classifier
//! bias; FLOPs = conv multiply-accumulates (no bias) + 2 per BN output element + classifier
//! multiply-accumulates (no bias) + global-average-pool input elements. ReLU and the shortcut pool
//! count 0. NAR's cell keys skip 5 and 11, where the residual blocks sit: `cells0..4`, `cells6..10`,
//! `cells12..16`.

use super::{Arch, ImageDataset, Op};
use crate::cost::{CellCost, NetworkCost, conv_bn_params};

/// Channels of the first stage.
pub const BASE_CHANNELS: u64 = 16;
/// Cells per stage.
pub const CELLS_PER_STAGE: usize = 5;

/// NAR's keys of the fifteen cells, in network order.
pub const CELL_KEYS: [&str; 15] = [
    "cells0", "cells1", "cells2", "cells3", "cells4", "cells6", "cells7", "cells8", "cells9", "cells10", "cells12",
    "cells13", "cells14", "cells15", "cells16",
];

/// Params of one edge op with `c` channels in and out.
pub fn edge_params(op: Op, c: u64) -> u64 {
    match op {
        Op::Conv1x1 => conv_bn_params(1, c, c),
        Op::Conv3x3 => conv_bn_params(3, c, c),
        Op::None | Op::SkipConnect | Op::AvgPool3x3 => 0,
    }
}

/// Params and FLOPs of a residual block from `c_in` to `c_out` channels with `hw` output elements per
/// channel.
fn residual_block(c_in: u64, c_out: u64, hw: u64) -> (u64, u64) {
    let params = conv_bn_params(3, c_in, c_out) + conv_bn_params(3, c_out, c_out) + c_in * c_out;
    let flops = (9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + c_in * c_out) * hw;
    (params, flops)
}

/// Cost of the NAS-Bench-201 network built from `arch` for `dataset`.
pub fn network_cost(arch: &Arch, dataset: ImageDataset) -> NetworkCost {
    let mut side = dataset.resolution();
    let mut c = BASE_CHANNELS;
    let mut total_params = conv_bn_params(3, 3, c);
    let mut total_flops = (27 * c + 2 * c) * side * side;
    let mut cells = Vec::with_capacity(CELL_KEYS.len());
    for stage in 0..3 {
        if stage > 0 {
            side /= 2;
            let (p, f) = residual_block(c, 2 * c, side * side);
            total_params += p;
            total_flops += f;
            c *= 2;
        }
        for k in 0..CELLS_PER_STAGE {
            let params: Vec<u64> = arch.ops().iter().map(|&op| edge_params(op, c)).collect();
            let flops: Vec<u64> = params.iter().map(|p| p * side * side).collect();
            total_params += params.iter().sum::<u64>();
            total_flops += flops.iter().sum::<u64>();
            cells.push(CellCost { key: CELL_KEYS[stage * CELLS_PER_STAGE + k], flops, params });
        }
    }
    let classes = dataset.classes();
    total_params += 2 * c + c * classes + classes; // last BN, classifier with bias
    total_flops += 2 * c * side * side + c * side * side + c * classes; // last BN, pool, classifier
    NetworkCost { cells, total_flops, total_params }
}
