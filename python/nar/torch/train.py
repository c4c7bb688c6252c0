"""``python -m nar.torch.train ARCH --space nb201|nb101|FILE.yaml --dataset D --data-dir DIR``: trains one
architecture with its benchmark's published schedule (a declared space's: its skeleton's, in the network
its ``network:`` block names; ``--ops-module M`` imports a module registering ops first), progress on standard error, the validation accuracy (percent)
alone on the last line of standard output — the answer ``nar search --oracle-cmd`` reads.

Exit status: 0 trained (or already trained: a finished checkpoint answers at once); 1 for data, checkpoint
or device errors, with the reason and no traceback; 2 for usage (an unknown option or dataset, an
architecture that is not one of the space); 130 when interrupted (Ctrl-C or SIGTERM), the last complete
checkpoint kept: the same command resumes from it.
"""

import argparse
import json
import os
import signal
import sys
import types
from pathlib import Path

from nar.torch import training


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m nar.torch.train",
        description="Train one NAS-Bench-201/101 architecture with its benchmark's schedule; prints the "
        "validation accuracy (percent) on the last line of standard output.",
    )
    p.add_argument("arch", metavar="ARCH", help="NB201: the architecture string or its index; NB101: the JSON "
                   "object {\"module_adjacency\": …, \"module_operations\": …} (what nar search passes)")
    p.add_argument("--space", required=True, metavar="nb201|nb101|FILE.yaml",
                   help="a built-in space, or a declaration with a network: block")
    p.add_argument("--dataset", help="cifar10 (default), cifar100, imagenet16; a declared space: one of its tasks "
                   "(default its first), read from an image folder")
    p.add_argument("--recipe", help="a declared space's schedule: nb201-cifar10, nb201-cifar100, nb201-imagenet16 or "
                   "nb101-cifar10 (default: its skeleton's, for the task where the skeleton has one)")
    p.add_argument("--ops-module", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (repeatable): a module that registers ops (nar.torch.register_op)")
    p.add_argument("--data-dir", required=True, type=Path,
                   help="torchvision's CIFAR files (cifar-10-batches-py, cifar-100-python), or an image "
                   "folder with train/<class>/ and val/<class>/")
    p.add_argument("--download", action="store_true", help="fetch CIFAR-10/100 into --data-dir if missing")
    p.add_argument("--split-file", type=Path,
                   help="NB201's split: AutoDL-Projects' cifar-split.txt (CIFAR-10) or cifar100-test-split.txt")
    p.add_argument("--epochs", type=int, help="epochs (default: the benchmark's, 200 for NB201, 108 for NB101)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--workers", type=int, default=0, help="data loading processes (default 0: in this one)")
    p.add_argument("--threads", type=int, help="CPU threads of torch (default: torch's; give 1 per training "
                   "when several run at once on one machine)")
    p.add_argument("--checkpoint-dir", type=Path, default=Path("nar-checkpoints"),
                   help="where the per-epoch checkpoint goes (default ./nar-checkpoints)")
    args = p.parse_args(argv)
    declared = args.space.lower().endswith((".yaml", ".yml"))
    if not declared and args.space not in ("nb201", "nb101"):
        p.error(f"--space {args.space}: nb201, nb101, or a declaration FILE.yaml")
    if args.ops_module and not declared:
        p.error("--ops-module registers ops of a declared space (--space FILE.yaml)")
    if args.recipe is not None:
        from nar.torch import recipes

        known = {r.name: r for r in [*recipes.NB201.values(), recipes.NB101]}
        if not declared:
            p.error("--recipe chooses a declared space's schedule; a built-in space trains with its benchmark's")
        if args.recipe not in known:
            p.error(f"--recipe {args.recipe}: one of {', '.join(sorted(known))}")
        args.recipe = known[args.recipe]
    if not declared:
        args.dataset = args.dataset or "cifar10"
        if args.dataset not in ("cifar10", "cifar100", "imagenet16"):
            p.error(f"--dataset {args.dataset}: cifar10, cifar100 or imagenet16")
    if args.epochs is not None and args.epochs < 1:
        p.error(f"--epochs must be at least 1, not {args.epochs}")
    if args.workers < 0:
        p.error("--workers cannot be negative")
    cores = os.cpu_count() or 1
    if args.threads is not None and not 1 <= args.threads <= cores:
        p.error(f"--threads must be 1 to {cores} (this machine's cores), not {args.threads}")
    if not 0 <= args.seed <= training.MAX_SEED:
        p.error(f"--seed must be 0 … 2**63 − 1, not {args.seed}")
    if args.checkpoint_dir.exists() and not args.checkpoint_dir.is_dir():
        p.error(f"--checkpoint-dir {args.checkpoint_dir} is a file, not a folder")
    return p, args


def arch_argument(p, args):
    """The architecture ARCH names, or a usage error."""
    import nar.torch as nt

    text = args.arch
    if args.space.lower().endswith((".yaml", ".yml")):
        import nar

        try:
            for module in args.ops_module:
                nt.declared.load_ops_module(module)
            space = nar.Space.load(args.space)
        except (ValueError, OSError) as e:
            p.error(str(e))
        if space.network is None:
            p.error(f"--space {args.space}: `network`: the declaration has no network block (skeleton nb201 or nb101)")
        args.dataset = args.dataset or space.tasks[0]
        if args.dataset not in space.tasks:
            p.error(f"--dataset {args.dataset}: {space.name}'s tasks are {', '.join(space.tasks)}")
        try:
            cell = space.parse(text)
            nt.network(cell, space=space)  # every op resolves (a usage error where one does not)
        except ValueError as e:
            p.error(f"ARCH {text!r}: {e}")
        args.declared = space
        return cell
    args.declared = None
    try:
        if args.space == "nb201":
            # An index is ASCII digits, as `nar arch` reads it ("١٢" is not 12 here either).
            digits = text.strip().isascii() and text.strip().isdigit()
            arch = nt.resolve(int(text) if digits else text, "nb201")
        else:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"not JSON ({e})") from None
            arch = nt.resolve(value if isinstance(value, dict) else text, "nb101")
    except ValueError as e:
        p.error(f"ARCH {text!r}: {e}")
    if args.dataset not in nt.DATASETS[args.space]:
        p.error(f"--dataset {args.dataset}: {args.space} was trained on {', '.join(nt.DATASETS[args.space])}")
    return arch


class Interrupted(Exception):
    pass


def on_term(_signum, _frame):
    raise Interrupted()


def main(argv=None) -> int:
    p, args = parse_args(argv)
    arch = arch_argument(p, args)

    # Ctrl-C interrupts even where the shell that started us ignored SIGINT (a background job's
    # inheritance; Python then installs no handler of its own); SIGTERM likewise.
    previous = signal.signal(signal.SIGTERM, on_term), signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(p, args, arch)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _run(p, args, arch) -> int:
    import torch

    import nar.torch as nt
    from nar.torch import data

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    space, dataset = args.space, args.dataset
    decl = args.declared
    if decl is not None:
        import hashlib

        recipe = args.recipe or nt.declared.recipe(decl, dataset)
        ident = hashlib.sha256(f"{decl.sha256} {arch}".encode()).hexdigest()[:16]
        space = decl.name
    else:
        recipe = training.recipe_for(space, dataset)
        ident = arch.index if space == "nb201" else arch.hash
    epochs = args.epochs or recipe.epochs
    ckpt = args.checkpoint_dir / f"{space}-{dataset}-{ident}-seed{args.seed}-{epochs}ep.pt"
    try:
        training.check_device(args.device)  # before the data are read
        if decl is not None:
            classes, side, skeleton = decl.network["classes"], 32, decl.network["skeleton"]
            if not ((args.data_dir / "train").is_dir() and (args.data_dir / "val").is_dir()):
                raise data.DataError(f"{args.data_dir}: a declared space trains on an image folder (train/<class>/, val/<class>/)")
        else:
            (classes, side), skeleton = nt.image_shape(space, dataset), space
        sets = data.images(skeleton, dataset, args.data_dir, recipe, side, classes,
                           download=args.download, split_file=args.split_file)
        if sets.note:
            training.stderr(sets.note)
        train_loader, val_loader = data.loaders(sets, recipe, args.workers)
        shown = arch if decl is not None else training.arch_text(arch)
        training.stderr(f"training {shown} ({space} {ident}) on {sets.description}: {epochs} "
                        f"epochs of {recipe.name}'s schedule, seed {args.seed}, {args.device}; checkpoint {ckpt}")
        result = training.train(arch, train_loader, val_loader, dataset=dataset, epochs=epochs, seed=args.seed,
                          device=args.device, checkpoint=ckpt, recipe=recipe, space=decl)
    except (data.DataError, training.CheckpointError, ValueError, OSError) as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        done = ""
        if ckpt.exists():
            try:
                done = f" ({int(torch.load(ckpt, weights_only=True)['epoch'])} epochs done)"
            except Exception:
                pass
        print(f"{p.prog}: interrupted; {ckpt}{done} resumes with the same command", file=sys.stderr)
        return 130
    print(result.val_accuracy, flush=True)
    return 0


class _CallableModule(types.ModuleType):
    """Importing this module binds ``nar.torch.train`` to it, over the function of the same name: calling the
    module calls the function, so ``nar.torch.train(arch, …)`` works either way."""

    def __call__(self, *args, **kwargs):
        return training.train(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
else:
    sys.modules[__name__].__class__ = _CallableModule
