"""A trained hierarchy: load its levels, sample every level's output."""
from typing import ContextManager, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from torch import Tensor

from hvg.models.gans import BaseLevelGAN
from hvg.models.generators import LengthStatistics
from hvg.models.layers.resample import repeat_frames, resize_frames
from hvg.models.batch_random import Seed, mix_seed, per_video_randint
from hvg.models.level_chain import run_levels
from hvg.models.level_loading import load_level_and_config


def hierarchy_checkpoints(cfg: Config, checkpoints: Optional[Sequence[str]]) -> List[str]:
    """Checkpoints from the command line, else from the hierarchy config."""
    levels = cfg.hierarchy['levels']
    if checkpoints:
        if len(checkpoints) != len(levels):
            raise ValueError(f'{len(levels)} levels but {len(checkpoints)} checkpoints '
                             'were given: pass one per level, level 1 first')
        return list(checkpoints)
    missing = [lvl.get('config', f'level {i + 1}') for i, lvl in enumerate(levels)
               if not lvl.get('checkpoint')]
    if missing:
        raise ValueError('no checkpoint for ' + ', '.join(missing) + ': pass '
                         '--checkpoints L1.pth L2.pth ... (level 1 first) or set '
                         'hierarchy.levels.N.checkpoint in the config')
    return [lvl['checkpoint'] for lvl in levels]


def _level_kind(level) -> str:
    return 'an upsampling level' if hasattr(level, 'input_frames') else 'a level 1'


def check_chain(levels: Sequence[BaseLevelGAN], names: Sequence[str]) -> None:
    """Refuse levels that cannot follow each other, naming the file and what differs.

    Level 1 makes videos from noise; each next level must upsample exactly
    what the level below makes: its input size is the lower level's output
    size, and a class-conditional hierarchy shares its classes.
    """
    def fail(index: int, why: str) -> None:
        raise ValueError(f'{names[index]} (level {index + 1}) cannot be level '
                         f'{index + 1} of this hierarchy: {why}. Pass one checkpoint '
                         'per level, level 1 first, each trained on the level below.')

    for index, level in enumerate(levels):
        upsampling = hasattr(level, 'input_frames')
        if (index == 0) == upsampling:
            fail(index, f'it is {_level_kind(level)}, and level 1 must be a level 1 '
                 'and every other level an upsampling level')
        if not index:
            continue
        below, gen = levels[index - 1].generator, level.generator
        if gen.in_size != below.out_size:
            fail(index, f'it upsamples {gen.in_size}x{gen.in_size} inputs, but level '
                 f'{index} ({names[index - 1]}) makes {below.out_size}x{below.out_size}')
        if gen.num_classes != levels[0].generator.num_classes:
            fail(index, f'it has {gen.num_classes} classes, level 1 '
                 f'{levels[0].generator.num_classes}')


def video_labels(num_classes: int, video_seeds: Sequence[int]) -> Optional[Tensor]:
    """One random class per video, from its seed alone (None if unconditional)."""
    if not num_classes:
        return None
    return per_video_randint(num_classes, [mix_seed(s, 5) for s in video_seeds])


def levels_side_by_side(outputs: Sequence[Tensor]) -> Tensor:
    """Every level's (N, C, T, H, W) output side by side along the width.

    Lower levels are upscaled (nearest, in space and time) to the final
    output's size and frame count, so a frame of the result shows what each
    level made at the same moment.
    """
    final = outputs[-1]
    tiles = [repeat_frames(resize_frames(video.to(final.device), final.shape[-2:],
                                         mode='nearest'), final.shape[2])
             for video in outputs[:-1]]
    return torch.cat(tiles + [final], dim=-1)


class Hierarchy:
    """The levels of a trained HVG model, level 1 first, frozen, in eval mode.

    ``sample`` runs level 1, then every upsampling level over the whole output
    of the level below (the paper's inference: no temporal crop), after
    recomputing the level's per-frame BatchNorm statistics for that length
    with ``bn_passes`` dummy passes (appendix A: 200), cached per length in
    ``statistics`` (one ``LengthStatistics`` per level: the generators stay as
    trained). The paper's 12-frame protocol is ``window=True``: each upsampling
    level sees a random window of its training length instead.

    Args:
        levels: the trained levels (``Level1GAN`` then ``UpsamplingLevelGAN``s).
        bn_passes: dummy passes to recompute BatchNorm statistics.
        bn_batch_size: samples per dummy pass.
        fps: frame rate of the final output (for writing videos).
        configs: each level's training config (``from_checkpoints`` fills it
            from the checkpoints); evaluation reads the real clips from them.
        bn_seed: seeds the BatchNorm-statistics passes (per level and length:
            the same statistics whatever is sampled).
    """

    def __init__(self, levels: Sequence[BaseLevelGAN], bn_passes: int = 200,
                 bn_batch_size: int = 8, fps: float = 8.0,
                 configs: Optional[Sequence[Config]] = None, bn_seed: int = 0):
        if not levels:
            raise ValueError('a hierarchy needs at least one level')
        self.levels = list(levels)
        # each level's training config (its dataset gives evaluation's real clips)
        self.configs = list(configs) if configs is not None else None
        # the input length each upsampling level was trained on (the window protocol)
        self.train_input_frames = [None] + [lvl.input_frames for lvl in self.levels[1:]]
        self.bn_passes = bn_passes
        # the per-length BatchNorm statistics of every level's generator
        self.statistics = [LengthStatistics(lvl.generator) for lvl in self.levels]
        self.bn_batch_size = bn_batch_size
        self.bn_seed = bn_seed
        self.fps = fps

    @classmethod
    def from_checkpoints(cls, checkpoints: Sequence[str], device: str = 'cpu',
                         configs: Optional[Sequence[Optional[str]]] = None,
                         **options) -> 'Hierarchy':
        """Build from checkpoints alone, level 1 first: each stores its config.

        ``configs[i]`` is only read for a checkpoint that stores no config.
        Levels that cannot follow each other are refused before any sampling
        (``check_chain``).
        """
        if not checkpoints:
            raise ValueError('a hierarchy needs at least one checkpoint')
        configs = list(configs) if configs else [None] * len(checkpoints)
        loaded = [load_level_and_config(path, config, what=f'level {i + 1}')
                  for i, (path, config) in enumerate(zip(checkpoints, configs))]
        levels = [level.to(device) for level, _ in loaded]
        check_chain(levels, list(checkpoints))
        return cls(levels, configs=[cfg for _, cfg in loaded],
                   **{k: v for k, v in options.items() if v is not None})

    @classmethod
    def from_config(cls, config: Optional[str], checkpoints: Optional[Sequence[str]] = None,
                    device: str = 'cpu', cfg_options: Optional[dict] = None,
                    **overrides) -> 'Hierarchy':
        """Build from a hierarchy config (``configs/hvg/hvg*.py``) and/or checkpoints.

        The config gives the sampling options (``hierarchy.bn_passes``,
        ``fps``...) and, when ``checkpoints`` is None, the checkpoints; its
        level configs are only needed for checkpoints that store no config.
        With ``config=None`` the checkpoints alone describe the hierarchy.
        ``cfg_options`` override the hierarchy config's keys, e.g.
        ``{'hierarchy.bn_passes': 50}``.
        """
        if config is None:
            if cfg_options:
                raise ValueError('--cfg-options override a hierarchy config: pass one')
            return cls.from_checkpoints(checkpoints or [], device, **overrides)
        cfg = Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if 'hierarchy' not in cfg:
            raise KeyError(f'{config} is not a hierarchy config: it has no '
                           '`hierarchy = dict(levels=[...])`')
        paths = hierarchy_checkpoints(cfg, checkpoints)
        configs = [lvl.get('config') for lvl in cfg.hierarchy['levels']]
        options = {k: cfg.hierarchy[k] for k in ('bn_passes', 'bn_batch_size', 'fps')
                   if k in cfg.hierarchy}
        options.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_checkpoints(paths, device, configs, **options)

    @property
    def num_classes(self) -> int:
        return self.levels[0].generator.num_classes

    @property
    def device(self) -> torch.device:
        return next(self.levels[0].parameters()).device

    def natural_frames(self) -> int:
        """Final frames when level 1 runs at its training length."""
        frames = self.levels[0].generator.num_frames
        for level in self.levels[1:]:
            frames *= level.generator.temporal_factor
        return frames

    def _level1_frames(self, num_frames: Optional[int]) -> int:
        if num_frames is None:
            return self.levels[0].generator.num_frames
        factor = self.natural_frames() // self.levels[0].generator.num_frames
        if num_frames % factor:
            raise ValueError(f'num_frames must be a multiple of {factor} (the upsampling '
                             f'levels multiply the frame count by {factor})')
        return num_frames // factor

    def _labels(self, num: int, rng: torch.Generator) -> Optional[Tensor]:
        if not self.num_classes:
            return None
        return torch.randint(self.num_classes, (num, ), generator=rng)

    @torch.no_grad()
    def _at_length(self, index: int, input_frames: int, seed: int, level1_frames: int,
                   chunk_frames: Optional[int] = None) -> ContextManager[None]:
        """Level ``index`` set for ``input_frames`` inputs: ``with`` it to sample.

        Prepares the per-frame BN statistics of the level's output length
        (dummy passes, once per length: ``self.statistics[index]``) and returns
        the context that puts them in use. The dummy passes of an upsampling
        level get real inputs: the output of the levels below for
        ``level1_frames`` level-1 frames. With ``chunk_frames`` they run window
        by window, like the sampling, so preparing a long video needs no more
        memory than sampling it.
        """
        level = self.levels[index]
        gen = level.generator
        factor = getattr(gen, 'temporal_factor', 1)
        out_frames = input_frames * factor if index else input_frames
        rng = torch.Generator().manual_seed(seed)
        device = self.device

        def dummy_inputs():
            batch = self.bn_batch_size
            labels = self._labels(batch, rng)
            labels = labels.to(device) if labels is not None else None
            noise = torch.randn(batch, gen.noise_dim, generator=rng).to(device)
            if index == 0:
                return noise, labels, out_frames
            lowres = self._run(batch, labels, level1_frames, upto=index, noise_std=1.0,
                               seed=int(torch.randint(2**31, (1, ), generator=rng)),
                               chunk_frames=chunk_frames)[-1]
            return noise, lowres, labels

        self.statistics[index].prepare(
            out_frames, dummy_inputs, self.bn_passes,
            chunk_frames=chunk_frames if index else None,
            desc=f'level {index + 1}: BatchNorm statistics for {out_frames} frames')
        return self.statistics[index].at_length(out_frames)

    def _run(self, num: int, labels: Optional[Tensor], level1_frames: int, upto: int,
             noise_std: float, seed: Seed, window: bool = False,
             chunk_frames: Optional[int] = None,
             inputs: Optional[List] = None) -> List[Tensor]:
        """The level chain (``run_levels``) up to level ``upto``, each level's
        BatchNorm statistics for the length it is given in use."""
        levels = self.levels[:upto]

        def at_length(index: int, input_frames: int, level_seed) -> ContextManager[None]:
            # the statistics of a length are the model's, not the sample's: their
            # dummy passes have a seed of their own (the same whatever is sampled)
            return self._at_length(index, input_frames, mix_seed(self.bn_seed, index),
                                   level1_frames, chunk_frames)

        windows = ([None] + self.train_input_frames[1:upto]) if window else None
        outputs, given = run_levels(levels, num, labels, noise_std, seed, windows=windows,
                                    at_length=at_length, chunk_frames=chunk_frames,
                                    level1_frames=level1_frames)
        if inputs is not None:
            inputs.extend(given)
        return outputs

    @torch.no_grad()
    def sample(self, num_samples: int, labels: Optional[Tensor] = None,
               noise_std: float = 1.0, seed: int = 0, num_frames: Optional[int] = None,
               window: bool = False, chunk_frames: Optional[int] = None,
               return_inputs: bool = False, indices: Optional[Sequence[int]] = None
               ) -> Union[List[Tensor], Tuple[List[Tensor], List[Optional[Tensor]]]]:
        """Every level's output, level 1 first: ``[(N, 3, T_l, H_l, W_l), ...]``.

        Args:
            num_samples: N.
            labels: (N,) class labels; random for a class-conditional model.
            noise_std: scale of the noise (1.0 for metrics; appendix H).
            seed: names the videos with ``indices``: video ``i`` of seed ``s``
                (its noise at every level, its label when drawn, its windows)
                comes from ``(s, i)`` alone, so it is the same whatever the
                batch size or the number of processes, and other seeds (or
                indices) give other videos.
            num_frames: final frames; by default level 1's training length
                times the upsampling factors (48 for the 2-level Kinetics model).
                Other lengths unroll level 1 too.
            window: the paper's 12-frame protocol: each upsampling level sees a
                random window of its training length, not the whole input.
            chunk_frames: run upsampling levels, and their BatchNorm-statistics
                passes, on temporal windows keeping this many output frames
                each (memory independent of the length); None runs them whole.
            return_inputs: also return what each level was given,
                ``(outputs, inputs)`` with ``inputs[0] = None`` and
                ``inputs[l]`` the low-res video level ``l + 1`` upsampled (the
                level below's whole output, or with ``window`` its window):
                the pairs grounding scores.
            indices: the videos' indices under ``seed`` (default
                ``0 .. N - 1``): ``sample(1, seed=s, indices=[2])`` is video 2
                of ``sample(3, seed=s)``.
        """
        indices = list(range(num_samples)) if indices is None else list(indices)
        if len(indices) != num_samples:
            raise ValueError(f'{len(indices)} indices for {num_samples} videos')
        video_seeds = [mix_seed(seed, i) for i in indices]
        if labels is None:
            labels = video_labels(self.num_classes, video_seeds)
        if labels is not None:
            labels = labels.to(self.device)
        level1_frames = self._level1_frames(num_frames)
        if window and num_frames is not None:
            raise ValueError('window=True samples at the training lengths: '
                             'num_frames cannot be set')
        inputs: Optional[List] = [] if return_inputs else None
        outputs = self._run(num_samples, labels, level1_frames, len(self.levels),
                            noise_std, video_seeds, window=window,
                            chunk_frames=chunk_frames, inputs=inputs)
        return (outputs, inputs) if return_inputs else outputs

    @torch.no_grad()
    def upsample(self, index: int, lowres: Tensor, labels: Optional[Tensor] = None,
                 noise_std: float = 1.0, seed: int = 0,
                 indices: Optional[Sequence[int]] = None,
                 chunk_frames: Optional[int] = None) -> Tensor:
        """Upsampling level ``index`` (0-based, >= 1) on a given low-res video.

        What ``sample`` does at that level, on an input of your choice (real
        low-res clips, say): ``(N, 3, T, h, w)`` in [-1, 1] at the size of
        level ``index``'s input, any length ``T`` the level below could make;
        the level runs over all of it with the BatchNorm statistics of its
        output length, prepared and cached as ``sample`` prepares them. Video
        ``i`` gets the noise that video ``i`` of ``sample(..., seed=seed)``
        gets at this level, so ``upsample(1, sample(n, seed=s)[0], labels,
        seed=s)`` is ``sample(n, seed=s)[1]`` (with the labels ``sample``
        drew). Why: to see a level on inputs without the errors of the levels
        below (docs/reproduction.md, "Where the first frame's blur comes from").

        Returns ``(N, 3, T * factor, H, W)``.
        """
        if not 1 <= index < len(self.levels):
            raise ValueError(f'index {index} is not an upsampling level of this '
                             f'{len(self.levels)}-level hierarchy (1 .. {len(self.levels) - 1})')
        num, input_frames = lowres.shape[0], lowres.shape[2]
        below = 1
        for level in self.levels[1:index]:
            below *= level.generator.temporal_factor
        if input_frames % below:
            raise ValueError(f'{input_frames} input frames: level {index + 1} takes a '
                             f'multiple of {below} (what level 1 and the levels between make)')
        indices = list(range(num)) if indices is None else list(indices)
        if len(indices) != num:
            raise ValueError(f'{len(indices)} indices for {num} videos')
        if self.num_classes and labels is None:
            raise ValueError('this hierarchy is class-conditional: pass the labels')
        level_seeds = [mix_seed(mix_seed(seed, i), 2, index) for i in indices]
        with self._at_length(index, input_frames, mix_seed(self.bn_seed, index),
                             input_frames // below, chunk_frames):
            return self.levels[index].sample(
                lowres.to(self.device), labels=labels, noise_std=noise_std,
                seed=level_seeds, chunk_frames=chunk_frames)
