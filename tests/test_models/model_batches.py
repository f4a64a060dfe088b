"""Random train-step batches for the model tests."""
import torch


def random_batch(model) -> dict:
    """A train-step batch of random uint8 clips (two, classes 0 and 2) for ``model``.

    An upsampling level's inputs are ``{'highres', 'lowres'}``, level 1's one
    tensor, shaped as the level's generator says.
    """
    gen = model.generator
    inputs = torch.randint(0, 256, (2, 3, gen.num_frames, gen.out_size, gen.out_size),
                           dtype=torch.uint8)
    if hasattr(gen, 'in_size'):
        lowres = torch.randint(0, 256, (2, 3, gen.num_frames // gen.temporal_factor,
                                        gen.in_size, gen.in_size), dtype=torch.uint8)
        inputs = dict(highres=inputs, lowres=lowres)
    return dict(inputs=inputs, data_samples=dict(label=torch.tensor([0, 2])))

