"Segmentation through the command line, as a user runs it, on the composited sample."
import csv, io, json, subprocess, sys
from pathlib import Path
import numpy as np
from PIL import Image
from conftest import evaluates_as_trained

BIN = Path(sys.executable).parent

def ftkit(*args, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900, **kw)

def test_train_predict_and_export_a_segmentation_model(tmp_path):
    from ftkit.vision.segment import segmentation_sample
    data,out = segmentation_sample(),tmp_path/'run'
    r = ftkit('train', data, '--size', '64', '--epochs', '3', '--out', out, '-q')  # the task inferred from images/ and masks/, its default strategy
    assert r.returncode == 0, r.stderr
    assert 'mean_iou' in r.stdout and 'pixel_accuracy' in r.stdout
    m,cfg = json.loads((out/'metrics.json').read_text()),json.loads((out/'config.json').read_text())
    assert m['task'] == cfg['task'] == 'segmentation' and cfg['classes'] == (data/'codes.txt').read_text().split()
    assert m['strategy']['strategy'] == 'fine_tune'  # segmentation's default (`Segmentation.default_strategy`): its new decoder trains at a head's rate throughout
    # better than predicting the background everywhere (its IoU is its share of the pixels; every other class present scores 0)
    masks = np.stack([np.asarray(Image.open(f)) for f in sorted((data/'valid'/'masks').glob('*.png'))])
    baseline = (masks==0).mean()/len(np.unique(masks))
    assert m['mean_iou'] > baseline + 0.05, (m['mean_iou'], baseline)
    assert m['pixel_accuracy'] > (masks==0).mean(), m['pixel_accuracy']  # and than the background's share of the pixels
    assert (out/'report.csv').exists() and (out/'class_f1.png').exists()
    evaluates_as_trained(ftkit, out, data/'valid', tmp_path/'ev')  # `ftkit evaluate` on the validation images and masks: the run's figures
    # masks written next to nothing else, named after their images, at each image's size
    imgs = sorted((data/'valid'/'images').glob('*.png'))[:3]
    big = tmp_path/'big.png'; Image.open(imgs[0]).resize((96, 80)).save(big)
    r = ftkit('predict', out, *imgs, big, '--out', tmp_path/'masks')
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [Path(o['mask']).name for o in rows] == [f.name for f in imgs] + ['big.png']
    assert Image.open(tmp_path/'masks'/'big.png').size == (96, 80) and Image.open(tmp_path/'masks'/imgs[0].name).size == (64, 64)
    for o in rows: assert abs(sum(float(a.split(':')[1]) for a in o['areas'].split()) - 1) < 1e-3
    r = ftkit('predict', out, *imgs)
    assert r.returncode == 2 and '--out' in r.stderr
    r = ftkit('export', out, '--onnx')
    assert r.returncode == 0 and (out/'model.onnx').exists(), r.stderr
    r = ftkit('predict', out, *imgs, '--out', tmp_path/'masks_onnx', '--backend', 'onnx')
    assert r.returncode == 0, r.stderr
    for f in imgs: assert np.array_equal(np.asarray(Image.open(tmp_path/'masks'/f.name)), np.asarray(Image.open(tmp_path/'masks_onnx'/f.name)))
    # int8: a static U-Net, calibrated on the training images beside valid/, its masks in the same shape
    r = ftkit('export', out, '--int8', '--data', data/'valid', '--repeats', 3, '--max-drop', 5)  # (80 images)
    assert r.returncode == 0, r.stderr
    q = json.loads((out/'quantization.json').read_text())
    assert q['kept'] and q['main_metric'] == 'mean_iou' and q['size_mb']['model.int8.onnx'] < q['size_mb']['model.onnx']/3
    r = ftkit('export', out, '--int8', '--data', data/'valid', '--qat', 1)  # refused before any work, in one line that says why
    assert r.returncode == 2 and 'torch.fx cannot trace' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert (out/'model.int8.onnx').is_file()  # the int8 model made above is kept
    r = ftkit('predict', out, *imgs, '--out', tmp_path/'masks_int8', '--backend', 'int8')
    assert r.returncode == 0, r.stderr
    for f in imgs:
        a,b = (np.asarray(Image.open(tmp_path/d/f.name)) for d in ('masks', 'masks_int8'))
        assert a.shape == b.shape and (a == b).mean() > 0.9, (a == b).mean()  # int8 rounding moves few pixels

def test_segmentation_refuses_what_does_not_apply(tmp_path):
    from ftkit.vision.segment import segmentation_sample
    r = ftkit('train', segmentation_sample(), '--mix', 'mixup', '--out', tmp_path)
    assert r.returncode == 2 and 'does not apply' in r.stderr, r.stderr

def test_compare_segmentation_strategies(tmp_path):
    import pandas as pd
    from ftkit.vision.segment import segmentation_sample
    r = ftkit('compare', segmentation_sample(), '--strategies', 'feature_extract,fine_tune', '--epochs', '1', '--size', '32', '--fractions', '0.5,1', '--out', tmp_path, '-v')
    assert r.returncode == 0, r.stderr
    assert 'bs=16' in r.stdout  # the task's own batch size (240 images: 15 batches an epoch, not 3)
    runs = pd.read_csv(tmp_path/'comparison.csv')
    assert runs.groupby('fraction').n_train.unique().map(list).to_dict() == {0.5: [120], 1.0: [240]}  # the learning curve's shares were drawn
    df = runs[runs.fraction==1].set_index('strategy')
    assert {'pixel_accuracy','mean_iou','dice'} <= set(df.columns) and 'accuracy' not in df.columns and set(df.task) == {'segmentation'}
    assert df.drift['feature_extract'] == 0 and df.drift['fine_tune'] > 0  # a frozen encoder (BatchNorm included) did not move; fine-tuning moved it
    assert df.trainable_params['feature_extract'] < df.trainable_params['fine_tune']
    assert 'mean_iou' in r.stdout and (tmp_path/'comparison.png').exists()
    assert pd.read_csv(tmp_path/'summary.csv').filter(like='mean_iou').shape[1] == 2  # mean and std over seeds
    assert (tmp_path/'learning_curve.png').exists()

def test_auto_on_segmentation(tmp_path, chosen_by):
    from ftkit.all import segmentation_dls, segmentation_sample, selection_split
    from ftkit.core import get_task
    # on the sample, the selection split holds every class that two images or more hold, as it does every class of a classification
    task = get_task('segmentation')
    ds = segmentation_dls(segmentation_sample(), size=32, device='cpu').train_ds
    labels = task.item_labels(ds)
    present = [set(np.unique(np.asarray(ds.tls[1][j])).tolist()) for j in range(len(ds))]
    assert [ds.mask_classes[f] for f in ds.items] == [sorted(o) for o in present]  # kept from the loaders' one read of each mask
    keep,sel = selection_split(labels, 0.15, 0)
    for c in set().union(*present):
        if sum(c in p for p in present) >= 2: assert any(c in present[j] for j in sel), c
    r = ftkit('train', segmentation_sample(), '--strategy', 'auto', '--epochs', '4', '--size', '32', '--out', tmp_path, '-q')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert m['monitor'] == m['auto']['monitor'] == 'mean_iou' and m['auto']['n_selection'] == len(sel)
    stages = [t['stage'] for t in m['auto']['tries']]
    assert 'cache' not in stages and stages.count('probe') == 1 and stages.count('candidate') == 2  # no pooled features to cache: one probe, on the images
    probe,tries = [t for t in m['auto']['tries'] if t['stage']=='probe'][0],[t for t in m['auto']['tries'] if t['stage']=='candidate']
    bs = m['bs']
    assert probe['name'] == 'linear probe, lr 0.001' and probe['batches'] == len(keep)//bs  # segmentation's probe rate, for one epoch of the kept images
    assert all(t['batches'] == round(0.5*3*(len(ds)//bs)) for t in tries)  # each try half of the three epochs of fine-tuning the probe leaves
    assert sum(t['chosen'] for t in m['auto']['tries']) == 1  # which one: `chosen_by` checks it is the best by the monitor
    chosen_by(m['auto'], 'mean_iou')
