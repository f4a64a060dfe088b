"""The training loop shared by every level: D steps, G steps, non-finite guard."""
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List, Optional

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor

from hvg.registry import MODELS
from ..layers import convert_sync_frame_bn
from ..performance import apply_performance_options
from .step import LevelBatch, Sample


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Stop gradients into ``module`` (and DDP's gradient sync) for a while.

    During a generator step the discriminators are only a function of the
    fake video: their parameters must get no gradient. Under DDP, ``no_sync``
    also keeps the reducer from waiting for gradients that never come.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    with ExitStack() as stack:
        if isinstance(module, nn.parallel.DistributedDataParallel):
            stack.enter_context(module.no_sync())
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)


def total_grad_norm(params: List[nn.Parameter]) -> Tensor:
    """L2 norm of all gradients together (inf or nan if any gradient is)."""
    if not params:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(p.grad.detach()) for p in params])
    return torch.linalg.vector_norm(norms)


def _into_wrapper(wrapper, state_dict, prefix, *args) -> None:
    """Pre-hook of a DDP wrapper: its wrapped module's keys, ``prefix + 'module.'``."""
    for key in [k for k in state_dict
                if k.startswith(prefix) and not k.startswith(prefix + 'module.')]:
        state_dict[prefix + 'module.' + key[len(prefix):]] = state_dict.pop(key)


class BaseLevelGAN(BaseModel):
    """One level of the hierarchy as a GAN, trained with mmengine's Runner.

    ``train_step`` reads like the algorithm: every iteration updates the
    discriminators once; every ``discriminator_steps``-th iteration also
    updates the generator (appendix A: two D updates per G update), with the
    discriminators frozen. Subclasses say how to make fakes and how to score
    a video (``generate_fake``, ``discriminate``), not how to loop.

    A step whose loss or gradient is not finite is never applied: the
    parameters keep their last finite values and the event is returned in the
    log variables (``nonfinite``), where ``NonFiniteGuardHook`` stops the run
    or counts the skip, as the config says.

    Args:
        generator: config of the generator.
        discriminator: config of the discriminator (usually a group).
        loss: config of the GAN loss (``disc_loss`` and ``gen_loss``).
        discriminator_steps: D updates per G update.
        data_preprocessor: config of the data preprocessor.
        sync_bn: global-synchronous per-frame BatchNorm in the generator
            (section 5.1): training statistics over the global batch of all
            ranks (``FrameBatchNorm.sync``). A no-op in a single process.
        augment: config of a differentiable augmentation applied to every
            discriminator input, real and fake (e.g. ``DiffAugment``); None
            (the paper) for none.
        num_classes: classes of a class-conditional level (0: unconditional),
            said once here and passed to the generator and every
            discriminator; None leaves the networks' own ``num_classes``.
        channels_last: channels-last weights (and so activations) in G and
            D, for tensor cores (``hvg.models.performance``). Off by default.
        compile: ``dict(generator=True, discriminators=True, **options)``:
            ``torch.compile`` the networks in place (``hvg.models.performance``).
            None (default): eager.

    Data parallelism: per-sample randomness (noise, the spatial
    discriminator's frames, training windows) is drawn for the global batch
    and split by rank (``hvg.models.batch_random``), so W ranks of b samples
    train like one process of W * b (with ``sync_bn``; tested to 1e-5).
    """

    def __init__(self, generator: dict, discriminator: dict,
                 loss: dict = dict(type='GeometricHingeLoss'),
                 discriminator_steps: int = 2,
                 data_preprocessor: dict = dict(type='VideoDataPreprocessor'),
                 sync_bn: bool = False, augment: Optional[dict] = None,
                 num_classes: Optional[int] = None, init_cfg: Optional[dict] = None,
                 channels_last: bool = False, compile: Optional[dict] = None):  # noqa: A002
        if isinstance(data_preprocessor, dict):
            # built here from our registry: BaseModel would use mmengine's root
            # registry, which only finds it under default_scope='hvg'
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if discriminator_steps < 1:
            raise ValueError('discriminator_steps must be >= 1')
        if num_classes is not None:
            generator, discriminator = with_classes(generator, discriminator, num_classes)
        self.generator = convert_sync_frame_bn(MODELS.build(generator), sync_bn)
        self.discriminator = MODELS.build(discriminator)
        self.loss = MODELS.build(loss)
        self.augment = MODELS.build(augment) if augment is not None else None
        self.discriminator_steps = discriminator_steps
        self.nonfinite_events: List[str] = []
        self.overflow_events: List[str] = []  # fp16 steps the loss scaler skipped
        self._local_iter = 0
        apply_performance_options(self, channels_last, compile)
        self.register_state_dict_post_hook(self._unwrapped_keys)
        self.register_load_state_dict_pre_hook(self._wrapped_keys)

    # --- checkpoints independent of data-parallel wrappers ----------------------
    # Under MMSeparateDistributedDataParallel the generator and discriminator are
    # DDP wrappers, so their keys would read 'generator.module.*': a checkpoint
    # of a 64-GPU run would not load into a model built for sampling. Keys are
    # saved as if unwrapped and mapped back on loading into a wrapped model.
    def _wrapped_children(self) -> List[str]:
        return [name for name, child in self.named_children() if is_model_wrapper(child)]

    @staticmethod
    def _unwrapped_keys(module, state_dict, prefix, local_metadata) -> None:
        wrapped = [f'{prefix}{name}.module.' for name in module._wrapped_children()]
        if not wrapped:
            return
        items = list(state_dict.items())
        state_dict.clear()
        for key, value in items:
            for head in wrapped:
                if key.startswith(head):
                    key = head[:-len('module.')] + key[len(head):]
                    break
            state_dict[key] = value

    @staticmethod
    def _wrapped_keys(module, state_dict, prefix, *args) -> None:
        # Two loaders reach a wrapped child. torch's load_state_dict walks into
        # the wrapper, then its `.module`: the keys need 'module.' there, so each
        # wrapper gets a pre-hook that adds it for the keys it receives.
        # mmengine's load_state_dict (the Runner's load_from and resume) skips
        # the wrappers and loads the unwrapped keys as they are: renaming them
        # here, for both, would leave a resumed distributed run with its
        # initial weights.
        for name in module._wrapped_children():
            child = getattr(module, name)
            if not getattr(child, '_hvg_unwrapped_keys_hook', False):
                child.register_load_state_dict_pre_hook(_into_wrapper)
                child._hvg_unwrapped_keys_hook = True

    # --- what a level supplies -------------------------------------------------
    def unpack(self, data: dict) -> LevelBatch:
        """Preprocessed data -> the batch the steps below consume."""
        raise NotImplementedError

    def generate_fake(self, batch: LevelBatch) -> Sample:
        """Fake sample(s) for a batch."""
        raise NotImplementedError

    # --- shared by every level ----------------------------------------------------
    def real_sample(self, batch: LevelBatch) -> Sample:
        """The real sample of a batch, in the form ``generate_fake`` returns."""
        return Sample(video=batch.real, lowres=batch.lowres)

    def discriminate(self, sample: Sample, batch: LevelBatch) -> Tensor:
        """Scores ``(B, N)`` of a sample (real or fake), augmented if configured.

        Every discriminator of the group gets the same call (``video``,
        ``labels``, ``lowres``): an augmentation transforms the video and its
        low-res partner identically, so a matching pair stays a matching pair.
        """
        video, lowres = self.augmented(sample.video, sample.lowres)
        return self.discriminator(video, batch.labels, lowres=lowres)

    def augmented(self, video: Tensor, lowres: Optional[Tensor] = None):
        """``(video, lowres)`` as the discriminators see them (``augment``)."""
        if self.augment is None:
            return video, lowres
        return self.augment(video, lowres)

    @property
    def conditional(self) -> bool:
        # unwrap: under DDP self.generator is a wrapper without these attributes
        return unwrap(self.generator).num_classes > 0

    def batch_labels(self, data: dict) -> Optional[Tensor]:
        """The batch's class labels for a class-conditional level, else None."""
        if not self.conditional:
            return None
        samples = data.get('data_samples') or {}
        labels = samples.get('label') if isinstance(samples, dict) else None
        if labels is None or bool((labels < 0).any()):
            raise ValueError('a class-conditional level needs a label for every '
                             'clip: check the annotation file of the dataset')
        return labels

    # --- the loop -------------------------------------------------------------
    def _iteration(self) -> int:
        it = MessageHub.get_current_instance().get_info('iter')
        return self._local_iter if it is None else it

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        self.nonfinite_events = []
        self.overflow_events = []
        batch = self.unpack(self.data_preprocessor(data, True))
        iteration = self._iteration()
        d_wrapper = optim_wrapper['discriminator']
        with d_wrapper.optim_context(self.discriminator):
            log_vars = self.update_discriminator(batch, d_wrapper, iteration)
        if (iteration + 1) % self.discriminator_steps == 0:
            g_wrapper = optim_wrapper['generator']
            with frozen(self.discriminator), g_wrapper.optim_context(self.generator):
                log_vars.update(self.update_generator(batch, g_wrapper, iteration))
        log_vars['nonfinite'] = torch.tensor(float(len(self.nonfinite_events)))
        if self.overflow_events:
            log_vars['overflow'] = torch.tensor(float(len(self.overflow_events)))
        self._local_iter += 1
        return log_vars

    def update_discriminator(self, batch: LevelBatch, optim_wrapper: OptimWrapper,
                             iteration: int) -> Dict[str, Tensor]:
        with torch.no_grad():
            fake = self.generate_fake(batch)
        real_scores = self.discriminate(self.real_sample(batch), batch)
        fake_scores = self.discriminate(fake, batch)
        loss = self.loss.disc_loss(real_scores, fake_scores)
        grad_norm = self.apply_update(loss, optim_wrapper, 'discriminator', iteration)
        return dict(loss_disc=loss.detach(), d_real=real_scores.detach().mean(),
                    d_fake=fake_scores.detach().mean(), grad_norm_disc=grad_norm)

    def update_generator(self, batch: LevelBatch, optim_wrapper: OptimWrapper,
                         iteration: int) -> Dict[str, Tensor]:
        fake = self.generate_fake(batch)
        fake_scores = self.discriminate(fake, batch)
        loss = self.loss.gen_loss(fake_scores)
        grad_norm = self.apply_update(loss, optim_wrapper, 'generator', iteration)
        return dict(loss_gen=loss.detach(), grad_norm_gen=grad_norm)

    def apply_update(self, loss: Tensor, optim_wrapper: OptimWrapper, name: str,
                     iteration: int) -> Tensor:
        """Backward, then step only if the loss and every gradient are finite.

        The decision is all-reduced (min) across ranks, so every rank skips
        together and replicas never diverge. Returns the gradient norm
        (unscaled under fp16 loss scaling).

        fp16 loss scaling (``MixedPrecisionOptimWrapper``, mmengine's
        ``AmpOptimWrapper``): a finite loss with non-finite gradients is an
        overflow of the scaled gradients, which dynamic loss scaling expects
        (GradScaler starts at 2^16 and backs off). The step is skipped, the
        scale lowered by the scaler's backoff factor, and the event recorded
        in ``overflow_events`` (logged, never fatal), not in
        ``nonfinite_events``. Such a step cannot poison the BatchNorm
        statistics: the forward pass that updated them was finite (the loss
        is), only the backward overflowed.
        """
        scaler = _loss_scaler(optim_wrapper)
        scale = scaler.get_scale() if scaler is not None else 1.0
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        if not optim_wrapper.should_update():
            return torch.tensor(0.0)
        params = [p for group in optim_wrapper.optimizer.param_groups
                  for p in group['params'] if p.grad is not None]
        grad_norm = total_grad_norm(params) / scale
        flags = torch.stack([torch.isfinite(loss.detach()).reshape(()),
                             torch.isfinite(grad_norm).to(loss.device).reshape(())]).float()
        all_reduce(flags, op='min')
        loss_finite, grads_finite = (bool(flag) for flag in flags.tolist())
        if loss_finite and grads_finite:
            optim_wrapper.step()
        elif loss_finite and scaler is not None:
            # one new scale on every rank (the decision is all-reduced), where
            # scaler.step would decide from this rank's gradients alone
            scaler.update(scale * scaler.get_backoff_factor())
            self.overflow_events.append(
                f'fp16 gradient overflow in the {name} update at iteration '
                f'{iteration + 1}: skipped, loss scale {scale:g} -> {scaler.get_scale():g}')
        else:
            self.nonfinite_events.append(
                f'non-finite {name} loss or gradient at iteration {iteration + 1} '
                f'(loss={loss.item():.4g}, grad_norm={grad_norm.item():.4g}); '
                'the update was not applied')
        optim_wrapper.zero_grad()
        return grad_norm.detach()

    # --- inference -------------------------------------------------------------
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """Only sampling is a forward pass here; training goes through train_step."""
        if mode == 'loss':
            raise NotImplementedError(
                f'{type(self).__name__} trains through train_step (GAN updates), '
                'not forward(mode="loss")')
        return self.sample(**inputs)

    def sample(self, *args, **kwargs) -> Tensor:
        raise NotImplementedError

    def preview(self, num_samples: int, labels: Optional[Tensor] = None,
                noise_std: float = 1.0, seed: Optional[int] = None) -> Tensor:
        """Videos (N, C, T, H, W) that show how training goes (samples hook)."""
        raise NotImplementedError


def with_classes(generator: dict, discriminator: dict, num_classes: int):
    """The network configs with the level's ``num_classes`` filled in.

    A network that sets another value is refused: the level is the one
    place the number of classes is said.
    """
    def fill(cfg: dict, key: str) -> dict:
        own = cfg.get('num_classes')
        if own is not None and own != num_classes:
            raise ValueError(f'model.num_classes={num_classes} but {key}.num_classes='
                             f'{own}: set the classes once, as model.num_classes')
        return dict(cfg, num_classes=num_classes)

    generator = fill(generator, 'model.generator')
    if discriminator.get('type') == 'DiscriminatorGroup':
        discriminator = {name: (fill(cfg, f'model.discriminator.{name}')
                                if isinstance(cfg, dict) else cfg)
                         for name, cfg in discriminator.items()}
    else:
        discriminator = fill(discriminator, 'model.discriminator')
    return generator, discriminator


def _loss_scaler(optim_wrapper: OptimWrapper):
    """The wrapper's enabled gradient scaler (fp16 autocast), else None.

    Read from the ``loss_scaler`` attribute that mmengine's ``AmpOptimWrapper``
    and ``hvg.engine``'s ``MixedPrecisionOptimWrapper`` share; bf16 and fp32
    wrappers have none enabled.
    """
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    return scaler if scaler is not None and scaler.is_enabled() else None


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP-style wrapper, or the model itself."""
    return model.module if is_model_wrapper(model) else model
