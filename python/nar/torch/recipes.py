"""The benchmarks' published training schedules, each hyper-parameter with its source.

NAS-Bench-201 (``xautodl`` 1.0.0 / AutoDL-Projects): ``configs/nas-benchmark/hyper-opts/200E.config``
(``optim`` SGD, ``LR`` 0.1, ``momentum`` 0.9, ``nesterov`` 1, ``decay`` 0.0005, ``batch_size`` 256,
``epochs`` 200, ``scheduler`` cos, ``eta_min`` 0, ``warmup`` 0, ``criterion`` Softmax);
``procedures/optimizers.py`` ``CosineAnnealingLR`` (the rate changes once per epoch:
``eta_min + (LR − eta_min)·(1 + cos(π·epoch / T_max)) / 2``, ``T_max`` = epochs);
``datasets/get_dataset_with_transform.py`` ``get_datasets`` (per-dataset mean and std on the 0–1 scale;
random horizontal flip and random crop, 32 with padding 4 on CIFAR, 16 with padding 2 on ImageNet16-120).

NAS-Bench-101 (``google-research/nasbench``): ``nasbench/lib/config.py`` (``batch_size`` 256,
``train_epochs`` 108, ``learning_rate`` 0.1 ``Linearly scaled by --tpu_num_shards`` = 2, so 0.2,
``lr_decay_method`` COSINE_BY_STEP, ``momentum`` 0.9, ``weight_decay`` 1e-4); ``nasbench/lib/model_builder.py``
(``tf.train.RMSPropOptimizer(learning_rate, momentum, epsilon=1.0)``, TensorFlow's default decay 0.9; the
rate ``0.5·base·(1 + cos(π·step / total_steps))``, 0 at step 0; the weight decay as ``weight_decay ·
Σ l2_loss(v)`` over every trainable variable); ``nasbench/lib/cifar.py`` (pad 4 with zeros, random crop 32,
random flip, then ``(x − RGB_MEAN) / RGB_STD`` on the 0–255 scale; ``drop_remainder=True``; 40,000
training images: ``data_batch_1``–``4``, validation ``data_batch_5``,
``scripts/generate_cifar10_tfrecords.py``).
"""

import math
from dataclasses import dataclass
from typing import Tuple

import torch


@dataclass(frozen=True)
class Recipe:
    """How a benchmark trained its networks."""

    name: str
    epochs: int
    batch_size: int
    optimizer: str  # "sgd-nesterov" | "rmsprop-tf"
    lr: float
    momentum: float
    weight_decay: float
    # "cosine-epoch": the rate of epoch e for the whole epoch; "cosine-step": per step, 0 at step 0.
    schedule: str
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    crop_padding: int
    drop_last: bool

    def lr_at(self, epoch: int, step: int, steps_per_epoch: int, epochs: int) -> float:
        """The learning rate of ``step`` (0-based, within ``epoch``) of a training of ``epochs`` epochs."""
        if self.schedule == "cosine-epoch":
            return self.lr * (1 + math.cos(math.pi * epoch / epochs)) / 2
        global_step = epoch * steps_per_epoch + step
        if global_step == 0:
            return 0.0
        return 0.5 * self.lr * (1 + math.cos(math.pi * global_step / (epochs * steps_per_epoch)))

    def optimizer_for(self, params) -> torch.optim.Optimizer:
        if self.optimizer == "sgd-nesterov":
            return torch.optim.SGD(
                params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay, nesterov=True
            )
        return TFRMSprop(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)


def _scaled(values) -> Tuple[float, float, float]:
    return tuple(v / 255 for v in values)


#: NAS-Bench-201 on CIFAR-10, CIFAR-100 and ImageNet16-120 (means and deviations per dataset).
NB201 = {
    dataset: Recipe(
        name=f"nb201-{dataset}",
        epochs=200,
        batch_size=256,
        optimizer="sgd-nesterov",
        lr=0.1,
        momentum=0.9,
        weight_decay=5e-4,
        schedule="cosine-epoch",
        mean=_scaled(mean),
        std=_scaled(std),
        crop_padding=padding,
        drop_last=False,
    )
    for dataset, mean, std, padding in [
        ("cifar10", (125.3, 123.0, 113.9), (63.0, 62.1, 66.7), 4),
        ("cifar100", (129.3, 124.1, 112.4), (68.2, 65.4, 70.4), 4),
        ("imagenet16", (122.68, 116.66, 104.01), (63.22, 61.26, 65.09), 2),
    ]
}

#: NAS-Bench-101 on CIFAR-10.
NB101 = Recipe(
    name="nb101-cifar10",
    epochs=108,
    batch_size=256,
    optimizer="rmsprop-tf",
    lr=0.2,
    momentum=0.9,
    weight_decay=1e-4,
    schedule="cosine-step",
    mean=_scaled((125.31, 122.95, 113.87)),
    std=_scaled((62.99, 62.09, 66.70)),
    crop_padding=4,
    drop_last=True,
)


class TFRMSprop(torch.optim.Optimizer):
    """TensorFlow 1's ``tf.train.RMSPropOptimizer``, which NAS-Bench-101 trained with; PyTorch's RMSprop differs
    in three places that matter at epsilon 1.0 (it starts the mean square at 0, not 1; adds epsilon outside
    the square root; and applies the rate after the momentum, not inside it). Per parameter, with the
    weight decay added to the gradient as the L2 loss does:

        g   = grad + weight_decay · w
        ms  = decay · ms + (1 − decay) · g²          (ms starts at 1)
        mom = momentum · mom + lr · g / sqrt(ms + epsilon)
        w   = w − mom
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, decay: float = 0.9, epsilon: float = 1.0,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, decay=decay, epsilon=epsilon,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)
                    state["mom"] = torch.zeros_like(p)
                ms, mom = state["ms"], state["mom"]
                ms.mul_(group["decay"]).addcmul_(g, g, value=1 - group["decay"])
                mom.mul_(group["momentum"]).addcdiv_(g, (ms + group["epsilon"]).sqrt_(), value=group["lr"])
                p.sub_(mom)
        return loss
