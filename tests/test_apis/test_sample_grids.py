"""The labelled grids of tools/sample.py and tools/demo.py."""
import numpy as np
import torch
from mmengine.config import Config

from hvg.apis.sample_grids import class_names_of, labelled_grids, level_titles


def config(dataset: dict) -> Config:
    return Config(dict(train_dataloader=dict(dataset=dataset)))


def test_class_names_come_from_the_dataset_config_or_say_class_k(tmp_path):
    clips = config(dict(type='SampleClipsDataset', clips=['carphone', 'bikes']))
    assert class_names_of(clips, 2) == ['carphone', 'bikes']
    assert class_names_of(config(dict(type='SampleClipsDataset')), 3) == [
        'bikes', 'bigbuckbunny', 'carphone']
    (tmp_path / 'classes.txt').write_text('abseiling\nzumba\n')
    listed = config(dict(type='KineticsDataset', data_root=str(tmp_path),
                         classes='classes.txt'))
    assert class_names_of(listed, 2) == ['abseiling', 'zumba']
    missing = config(dict(type='KineticsDataset', data_root=str(tmp_path / 'nowhere'),
                          classes='classes.txt'))
    assert class_names_of(missing, 2) == ['class 0', 'class 1']
    assert class_names_of(listed, 3) == ['class 0', 'class 1', 'class 2']  # count differs


def test_grids_have_one_row_per_class_and_black_tiles_pad_short_rows():
    low = torch.rand(3, 3, 2, 8, 8) * 2 - 1
    high = torch.rand(3, 3, 4, 16, 16) * 2 - 1
    grids = labelled_grids([low, high], labels=[2, 0, 2], class_names=['a', 'b', 'c'])
    assert level_titles([low, high]) == ['level 1: 2 x 8x8', 'level 2: 4 x 16x16']
    final = grids['hierarchy_final']
    assert final.shape[0] == 4
    header = 11 + 6
    tile = 128 + 2  # 16x16 upscaled x8, and its padding
    # rows: class 0 (one sample), class 2 (two): 2 rows of 2 tiles
    assert final.shape[1] == header + 2 + 2 * tile
    margin = final.shape[2] - (2 + 2 * tile)
    assert margin > 0
    # the missing tile of class 0's row is black, the others are not
    top = header + 2
    empty = final[:, top:top + 128, margin + 2 + tile:margin + 2 + tile + 128]
    assert empty.max() == 0
    assert final[:, top:top + 128, margin + 2:margin + 130].max() > 0
    side = grids['levels_side_by_side']
    assert side.shape[2] - margin == 2 + 2 * (2 * 128 + 2)  # two levels per tile
    assert np.array_equal(side[:, :header], side[:1, :header].repeat(4, 0))  # fixed titles
