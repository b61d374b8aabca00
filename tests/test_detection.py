"Object detection through the command line, as a user runs it, on the composited sample: COCO, YOLO and CSV data, bad input, the report, prediction with boxes drawn, and ONNX."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from PIL import Image
from conftest import evaluates_as_trained

BIN = Path(sys.executable).parent

def ftkit(*args, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900, **kw)

def coco(split):
    from ftkit.vision.image import detection_sample
    return json.loads((detection_sample()/split/'annotations.json').read_text())

def to_yolo(dest:Path)->Path:
    "The bundled COCO sample written as a YOLO folder: the same images, each box as `class cx cy w h` in fractions of the image"
    from ftkit.vision.image import detection_sample
    names = [c['name'] for c in sorted(coco('train')['categories'], key=lambda c: c['id'])]
    (dest).mkdir(parents=True)
    (dest/'data.yaml').write_text('names: [' + ', '.join(names) + ']\n')
    for s,t in (('train','train'), ('valid','val')):
        c = coco(s)
        (dest/'images'/t).mkdir(parents=True); (dest/'labels'/t).mkdir(parents=True)
        for im in c['images']:
            shutil.copy(detection_sample()/s/'images'/im['file_name'], dest/'images'/t)
            w,h = im['width'],im['height']
            lines = [f"{a['category_id']-1} {(a['bbox'][0]+a['bbox'][2]/2)/w} {(a['bbox'][1]+a['bbox'][3]/2)/h} {a['bbox'][2]/w} {a['bbox'][3]/h}"
                     for a in c['annotations'] if a['image_id']==im['id']]
            if lines: (dest/'labels'/t/f"{Path(im['file_name']).stem}.txt").write_text('\n'.join(lines)+'\n')
    return dest

def test_train_evaluate_predict_and_export_a_detector(tmp_path):
    from ftkit.vision.image import detection_sample
    out = tmp_path/'run'
    r = ftkit('train', detection_sample(), '--size', '64', '--epochs', '3', '--aug', 'none', '--out', out, '-q')  # the task inferred from annotations.json; with the default light augmentation three epochs at 64 px are too few for scores to pass the threshold (08b_settings tests that default)
    assert r.returncode == 0, r.stderr
    m,cfg = json.loads((out/'metrics.json').read_text()),json.loads((out/'config.json').read_text())
    assert m['task'] == cfg['task'] == 'detection' and m['strategy']['strategy'] == 'fine_tune'
    assert m['monitor'] == 'valid_loss'  # the task's default: the loss watched (mAP sits at 0 until scores pass the threshold)
    assert m['map'] > 0.05, m['map']  # an untrained detector scores about 0.002 here
    assert m['n_valid'] == len(coco('valid')['images']) and m['skipped'] == []
    assert m['data_notes'] == ['image with no box (kept as a negative): 23 (images/train_0034.jpg, images/train_0040.jpg, images/train_0084.jpg, ...)']
    assert {'class_ap.png', 'pr_curves.png', 'worst_boxes.png', 'report.csv'} <= {f.name for f in out.iterdir()}
    evaluates_as_trained(ftkit, out, detection_sample()/'valid', tmp_path/'ev')
    # predict: boxes in each image's own pixels, drawn over it with --out
    files = sorted((detection_sample()/'valid'/'images').iterdir())[:4]
    big = tmp_path/'big.png'
    Image.open(files[0]).resize((192, 96)).save(big)  # twice as wide as the sample's images
    r = ftkit('predict', out, *files, big, '--format', 'json', '--out', tmp_path/'drawn')
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [Path(o['drawn']).name for o in rows] == [f'{f.stem}.png' for f in files] + ['big.png']
    assert all(Image.open(o['drawn']).size == Image.open(o['file']).size for o in rows)
    same,wide = rows[0]['boxes'],rows[-1]['boxes']
    assert same and [b['label'] for b in same] == [b['label'] for b in wide]
    for a,b in zip(same, wide):  # the same boxes, twice as wide (the image resized: within the resampling's difference)
        assert abs(b['box'][0] - 2*a['box'][0]) < 3 and abs(b['box'][2] - 2*a['box'][2]) < 3 and abs(b['box'][1] - a['box'][1]) < 1.5, (a, b)
    assert all(b['score'] >= cfg['threshold'] for o in rows for b in o['boxes'])
    code = (f"import sys, json\nfrom ftkit.export import load_model\np = load_model({str(out)!r}, device='cpu')\n"
            f"print(json.dumps([p.predict({str(files[0])!r})['boxes'], 'fastai' in sys.modules]))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    boxes,fastai = json.loads(r.stdout)
    assert fastai is False  # a deployed detector loads and predicts with torch, torchvision and timm alone
    assert [b['label'] for b in boxes] == [b['label'] for b in same]  # the same boxes as the command's (on its own device: within a pixel's rounding)
    assert all(abs(u-v) <= 0.5 for a,b in zip(boxes, same) for u,v in zip(a['box'], b['box'])), (boxes, same)
    r = ftkit('export', out, '--onnx')  # the boxes of ONNX Runtime within a pixel of PyTorch's, checked by the command
    assert r.returncode == 0 and (out/'model.onnx').exists() and 'box corners' in r.stdout, r.stderr
    assert 'Warning' not in r.stderr, r.stderr  # torchvision's warnings while the trace runs are not the user's to act on
    onnx = json.loads(ftkit('predict', out, *files, '--format', 'json', '--backend', 'onnx').stdout)
    assert [[b['label'] for b in o['boxes']] for o in onnx] == [[b['label'] for b in o['boxes']] for o in rows[:4]]
    r = ftkit('evaluate', out, detection_sample()/'valid', '--backend', 'onnx', '--out', tmp_path/'ev_onnx')  # the ONNX file's own boxes scored (no loss: the graph holds none)
    assert r.returncode == 0, r.stderr
    ev = json.loads((tmp_path/'ev_onnx'/'metrics.json').read_text())
    assert abs(ev['map'] - m['map']) < 1e-3 and ev['backend'] == 'onnx', (ev['map'], m['map'])

@pytest.mark.slow  # (two trainings; chapter 17 checks that the two forms give the same records, which is what training reads)
def test_the_same_boxes_in_yolo_and_coco_form_train_the_same(tmp_path):
    "The sample as COCO and as YOLO: one epoch each with the same seed gives the same figures, to float rounding"
    from ftkit.vision.image import detection_sample
    runs = {}
    for name,data in (('coco', detection_sample()), ('yolo', to_yolo(tmp_path/'yolo'))):
        r = ftkit('train', data, '--size', '64', '--epochs', '1', '--seed', '1', '--out', tmp_path/name, '-q')
        assert r.returncode == 0, r.stderr
        runs[name] = json.loads((tmp_path/name/'metrics.json').read_text())
    a,b = runs['coco'],runs['yolo']
    assert (a['n_train'], a['n_valid'], a['class_counts']) == (b['n_train'], b['n_valid'], b['class_counts'])
    for k in ('valid_loss', 'map', 'map_50'): assert abs(a[k] - b[k]) < 1e-4, (k, a[k], b[k])
    h = [(tmp_path/n/'history.csv').read_text().splitlines()[1:] for n in ('coco', 'yolo')]
    assert [l.split(',')[1][:6] for l in h[0]] == [l.split(',')[1][:6] for l in h[1]]  # the training loss of every epoch

def test_bad_detection_data_is_reported_not_fatal(tmp_path):
    from ftkit.vision.image import detection_sample
    d = tmp_path/'data'; (d/'images').mkdir(parents=True)
    c = coco('valid')
    for im in c['images'][:40]: shutil.copy(detection_sample()/'valid'/'images'/im['file_name'], d/'images')
    (d/'images'/'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    keep = {im['id'] for im in c['images'][:40]}
    anns = [a for a in c['annotations'] if a['image_id'] in keep]
    anns[0] = {**anns[0], 'bbox':[80, 80, 40, 40]}       # partly outside the 96-pixel image: clipped
    anns[1] = {**anns[1], 'bbox':[10, 10, 0, 5]}         # no width: left out
    anns[2] = {**anns[2], 'category_id':77}              # unknown category: left out
    images = c['images'][:40] + [dict(id=999, file_name='broken.jpg'), dict(id=998, file_name='gone.jpg')]
    (d/'annotations.json').write_text(json.dumps(dict(images=images, annotations=anns, categories=c['categories'])))
    r = ftkit('train', d, '--size', '64', '--epochs', '1', '--bs', '8', '--out', tmp_path/'run', '-q')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    assert sorted((Path(o['file']).name, o['reason'].split(' (')[0]) for o in m['skipped']) == [('broken.jpg', 'not an image'), ('gone.jpg', 'missing')]
    notes = {o.split(':')[0]:int(o.split(': ')[1].split(' ')[0]) for o in m['data_notes']}
    assert {k:v for k,v in notes.items() if k.startswith('box')} == {'box partly outside its image (clipped to it)':1,
        'box of zero or negative area, or outside its image (skipped)':1, 'box of an unknown category id (skipped)':1}
    assert m['n_train'] + m['n_valid'] == 40
    bad = tmp_path/'bad.csv'
    bad.write_text('fname,xmin,ymin,label\na.jpg,1,2,cat\n')
    r = ftkit('train', bad, '--task', 'detection', '--out', tmp_path/'run2')
    assert r.returncode == 2 and 'lacks the columns xmax, ymax' in r.stderr and 'Traceback' not in r.stderr, r.stderr
