"Hostile inputs: every one ends in a clean run with the problem reported, or a clear error naming the files and what to do."
import io, json, os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
import ftkit.vision.data
from ftkit.vision.data import image_dls, check_images, RGBImage
from ftkit.core import FtkitError, MissingError

BIN = Path(sys.executable).parent
COLOURS = {'cat':(200,60,60), 'dog':(60,60,200), 'owl':(60,200,60)}

def img(size=24, colour=(128,128,128), seed=0):
    "A small noisy RGB image of one colour"
    a = np.array(colour)[None,None] + np.random.default_rng(seed).normal(0, 25, (size,size,3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))

def encoded(im, fmt='PNG'):
    b = io.BytesIO(); im.save(b, fmt); return b.getvalue()

def make_data(root, classes=('cat','dog'), n=6, ext='png'):
    "`n` tiny images per class in `root/<class>/`"
    for c in classes:
        (root/c).mkdir(parents=True, exist_ok=True)
        for i in range(n): img(colour=COLOURS.get(c, (128,128,128)), seed=i).save(root/c/f'{i}.{ext}')
    return root

def load_all(dls):
    "Every batch of both loaders: what an epoch would decode"
    for dl in (dls.train, dls.valid):
        for x,y in dl: assert x.shape[1]==3
    return dls

def reasons(dls): return {'/'.join(Path(o['file']).parts[-2:]):o['reason'] for o in dls.skipped}

@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    "A fresh cache of checks for each test (weights are not needed in-process)"
    monkeypatch.setenv('FTKIT_CACHE', str(tmp_path/'cache'))

def test_unreadable_and_stray_files_are_skipped_and_reported(tmp_path, capsys):
    root = make_data(tmp_path/'data')
    good = img()
    (root/'cat'/'empty.png').write_bytes(b'')
    (root/'cat'/'cut.png').write_bytes(encoded(good)[:600])
    (root/'dog'/'cut.jpg').write_bytes(encoded(good, 'JPEG')[:400])
    (root/'dog'/'page.jpg').write_text('<html>not an image</html>')
    (root/'dog'/'notes.txt').write_text('stray')
    (root/'dog'/'.DS_Store').write_bytes(b'\0\0\0\1Bud1')  # hidden: ignored, not reported
    (root/'README.md').write_text('about this data')      # beside the class folders: not data
    dls = load_all(image_dls(root, size=16, bs=4))
    assert reasons(dls) == {'cat/empty.png':'empty file (0 bytes)', 'cat/cut.png':'truncated', 'dog/cut.jpg':'truncated',
                            'dog/page.jpg':'not an image', 'dog/notes.txt':'not an image file (.txt)'}
    used = {Path(f).name for f in [*dls.train_ds.items, *dls.valid_ds.items]}
    assert len(used) == 6 and len(dls.train_ds)+len(dls.valid_ds) == 12
    out = capsys.readouterr().out
    assert 'Skipped 5 of 17 files: 2 truncated (' in out and '1 not an image (dog/page.jpg)' in out

def test_image_modes_load_as_rgb(tmp_path):
    root = make_data(tmp_path/'data')
    rgb = img(colour=(200,60,60), seed=9)
    rgb.convert('L').save(root/'cat'/'grey.png')
    rgb.convert('1').save(root/'cat'/'bilevel.png')
    rgb.convert('RGBA').save(root/'cat'/'alpha.png')
    rgb.convert('LA').save(root/'cat'/'grey_alpha.png')
    rgb.convert('P', palette=Image.Palette.ADAPTIVE).save(root/'cat'/'palette.png')
    rgb.convert('P', palette=Image.Palette.ADAPTIVE).save(root/'cat'/'palette.gif', transparency=0)
    rgb.convert('CMYK').save(root/'cat'/'cmyk.jpg')
    Image.fromarray(np.linspace(0, 65535, 24*24).astype(np.uint16).reshape(24,24)).save(root/'cat'/'deep.png')
    assert Image.open(root/'cat'/'deep.png').mode == 'I;16'
    dls = load_all(image_dls(root, size=16, bs=4))
    assert dls.skipped == [] and len(dls.train_ds)+len(dls.valid_ds) == 20
    for ds in (dls.train_ds, dls.valid_ds):
        for i,f in enumerate(ds.items):
            x,y = ds[i]
            assert isinstance(x, RGBImage) and x.mode == 'RGB' and ds.vocab[y] == f.parent.name
            if f.name == 'deep.png': assert 100 < np.asarray(x).mean() < 155  # a grey ramp, not Pillow's clipped white
            if f.name == 'cmyk.jpg': assert np.asarray(x)[...,0].mean() > np.asarray(x)[...,2].mean()+50  # still red

def test_one_pixel_and_12_megapixel_images(tmp_path):
    root = make_data(tmp_path/'data')
    Image.new('RGB', (1,1), (255,0,0)).save(root/'cat'/'dot.png')
    big = np.broadcast_to(np.linspace(0, 255, 4000, dtype=np.uint8)[None,:,None], (3000,4000,3))
    Image.fromarray(np.ascontiguousarray(big)).save(root/'dog'/'big.jpg', quality=80)
    dls = load_all(image_dls(root, size=16, bs=4))
    assert dls.skipped == [] and len(dls.train_ds)+len(dls.valid_ds) == 14

def test_names_with_spaces_and_non_ascii(tmp_path):
    root = make_data(tmp_path/'my data é ü', classes=('chat noir', 'café ☕'))
    img().save(root/'chat noir'/'photo 1 ñ 写真.png')
    dls = load_all(image_dls(root, size=16, bs=4))
    assert sorted(dls.vocab) == ['café ☕', 'chat noir'] and dls.skipped == []
    assert any(f.name == 'photo 1 ñ 写真.png' for f in [*dls.train_ds.items, *dls.valid_ds.items])

def test_empty_class_folder_is_not_a_class(tmp_path, capsys):
    root = make_data(tmp_path/'data')
    (root/'zebra').mkdir()
    (root/'yak').mkdir(); (root/'yak'/'broken.png').write_bytes(b'')
    dls = image_dls(root, size=16, bs=4)
    assert list(dls.vocab) == ['cat', 'dog']
    out = capsys.readouterr().out
    assert 'Ignored 1 empty class folder (no images): data/zebra' in out
    assert reasons(dls) == {'yak/broken.png':'empty file (0 bytes)'}  # a class whose only image is unreadable vanishes, reported

def test_a_single_class_is_an_error(tmp_path):
    root = make_data(tmp_path/'data', classes=('cat',))
    with pytest.raises(FtkitError, match="at least two classes.*'cat'"): image_dls(root, size=16)
    (root/'dog').mkdir(); (root/'dog'/'x.png').write_text('not an image')  # the second class has no usable image
    with pytest.raises(FtkitError, match='at least two classes'): image_dls(root, size=16)

def test_a_class_with_one_image(tmp_path, capsys):
    root = make_data(tmp_path/'data')
    (root/'owl').mkdir(); img(colour=COLOURS['owl']).save(root/'owl'/'only.png')
    for seed in range(4):  # whichever way the random split falls, the owl is trained on
        dls = image_dls(root, size=16, bs=4, seed=seed)
        assert 'owl' in dls.vocab and any(f.parent.name == 'owl' for f in dls.train_ds.items)
        assert len(dls.train_ds)+len(dls.valid_ds) == 13
    out = capsys.readouterr().out
    assert "Class 'owl' has only one training image" in out
    load_all(dls)

def test_validation_class_missing_from_training(tmp_path):
    make_data(tmp_path/'data'/'train'); make_data(tmp_path/'data'/'valid', classes=('cat','dog','owl'), n=2)
    with pytest.raises(FtkitError, match=r"1 class that no training image has: 'owl' \(2 images\).*never saw"): image_dls(tmp_path/'data', size=16)
    df = pd.DataFrame(dict(fname=['cat/0.png','cat/1.png','dog/0.png','dog/1.png','owl/0.png'], label=['cat','cat','dog','dog','owl'],
                           is_valid=[False,True,False,True,True]))
    with pytest.raises(FtkitError, match="'owl'"): image_dls(df, path=tmp_path/'data'/'valid', size=16)

def test_empty_validation_folder(tmp_path):
    make_data(tmp_path/'data'/'train'); (tmp_path/'data'/'valid'/'cat').mkdir(parents=True)
    with pytest.raises(FtkitError, match='No images are left for validation'): image_dls(tmp_path/'data', size=16)

def test_csv_with_missing_files_duplicates_and_empty_labels(tmp_path, capsys):
    root = make_data(tmp_path/'data')
    rows = [f'{c}/{i}.png,{c}' for c in ('cat','dog') for i in range(6)]
    rows += ['cat/0.png,cat', 'dog/gone.png,dog', 'cat/1.png,', 'dog/1.png,  ', ',cat', 'cat/2.png, cat ']
    (root/'labels.csv').write_text('fname,label\n' + '\n'.join(rows) + '\n')
    dls = load_all(image_dls(root/'labels.csv', size=16, bs=4))
    assert list(dls.vocab) == ['cat', 'dog'] and len(dls.train_ds)+len(dls.valid_ds) == 12
    assert sorted(o['reason'] for o in dls.skipped) == ['duplicate row', 'duplicate row', 'empty label', 'empty label', 'missing', 'no file name']
    assert 'Skipped 6 of 18 rows' in capsys.readouterr().out

def test_csv_labels_are_read_as_written(tmp_path):
    root = make_data(tmp_path/'data', classes=('NA', 'None'))
    (root/'labels.csv').write_text('fname,label\n' + '\n'.join(f'{c}/{i}.png,{c}' for c in ('NA','None') for i in range(6)) + '\n')
    assert list(image_dls(root/'labels.csv', size=16).vocab) == ['NA', 'None']  # not pandas' missing values

def test_csv_conflicting_labels_is_an_error(tmp_path):
    root = make_data(tmp_path/'data')
    (root/'labels.csv').write_text('fname,label\n' + '\n'.join(f'{c}/{i}.png,{c}' for c in ('cat','dog') for i in range(6)) + '\ncat/3.png,dog\n')
    with pytest.raises(FtkitError, match=r"1 file has more than one label.*cat/3\.png: 'cat', 'dog'"): image_dls(root/'labels.csv', size=16)

def test_csv_bad_split_column_is_an_error(tmp_path):
    root = make_data(tmp_path/'data')
    (root/'labels.csv').write_text('fname,label,is_valid\n' + '\n'.join(f'{c}/{i}.png,{c},{"yes" if i<2 else "no"}' for c in ('cat','dog') for i in range(6)) + '\n')
    with pytest.raises(FtkitError, match="'is_valid' marks validation rows, so it must hold only True or False"): image_dls(root/'labels.csv', size=16)

def test_csv_whose_files_are_all_missing(tmp_path):
    (tmp_path/'labels.csv').write_text('fname,label\na.png,cat\nb.png,dog\n')
    with pytest.raises(MissingError, match='2 files listed in the table do not exist.*pass `path=`'): image_dls(tmp_path/'labels.csv', size=16)

def test_paths_that_are_not_data(tmp_path):
    with pytest.raises(MissingError, match='does not exist'): image_dls(tmp_path/'nope', size=16)
    with pytest.raises(MissingError, match='does not exist'): image_dls(tmp_path/'nope.csv', size=16)
    img().save(tmp_path/'one.png')
    with pytest.raises(FtkitError, match='is a file; give a folder'): image_dls(tmp_path/'one.png', size=16)

def test_folders_without_usable_images(tmp_path):
    (tmp_path/'empty'/'cat').mkdir(parents=True)
    with pytest.raises(FtkitError, match='No image files found'): image_dls(tmp_path/'empty', size=16)
    (tmp_path/'docs'/'cat').mkdir(parents=True); (tmp_path/'docs'/'cat'/'a.txt').write_text('x')
    with pytest.raises(FtkitError, match=r'None of the files .* can be used\. Skipped 1 of 1 files: 1 not an image file \(cat/a\.txt\)'): image_dls(tmp_path/'docs', size=16)
    (tmp_path/'flat').mkdir(); img().save(tmp_path/'flat'/'a.png'); img().save(tmp_path/'flat'/'b.png')
    with pytest.raises(FtkitError, match='lie directly in it, not in class folders'): image_dls(tmp_path/'flat', size=16)
    root = make_data(tmp_path/'bad', n=2)
    for f in root.rglob('*.png'): f.write_bytes(encoded(img())[:300])
    with pytest.raises(FtkitError, match=r'Skipped 4 of 4 files: 4 truncated \(cat/0\.png, cat/1\.png, dog/0\.png and 1 more\)'): image_dls(root, size=16)

def test_check_is_cached_and_changed_files_are_checked_again(tmp_path, monkeypatch):
    root = make_data(tmp_path/'data', n=10)
    (root/'cat'/'bad.png').write_bytes(b'')
    fns = sorted(root.rglob('*.png'))
    decoded = []
    real = ftkit.vision.data._check_image
    monkeypatch.setattr(ftkit.vision.data, '_check_image', lambda f: decoded.append(Path(f).name) or real(f))
    first = check_images(fns)
    assert len(decoded) == 21 and first == [{'file':str(root/'cat'/'bad.png'), 'reason':'empty file (0 bytes)'}]
    decoded.clear()
    assert check_images(fns) == first and decoded == ['bad.png']  # only the failure is checked again
    decoded.clear()
    (root/'dog'/'3.png').write_bytes(encoded(img())[:200])           # a file that changes is checked again
    img().save(root/'cat'/'bad.png')                                  # and a fixed one comes back
    assert check_images(fns) == [{'file':str(root/'dog'/'3.png'), 'reason':'truncated'}]
    assert sorted(decoded) == ['3.png', 'bad.png']
    decoded.clear()
    check_images(fns, cache=False)
    assert len(decoded) == 21
    decoded.clear()
    image_dls(root, size=16)  # the data loaders use the same cache
    assert decoded == ['3.png']

def test_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    root = make_data(tmp_path/'data')
    (tmp_path/'ro').write_text('a file where the cache folder should be')
    monkeypatch.setenv('FTKIT_CACHE', str(tmp_path/'ro'))
    assert check_images(sorted(root.rglob('*.png'))) == []

def cli(*args):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, encoding='utf-8', timeout=600)

def test_cli_reports_skipped_files(tmp_path):
    root = make_data(tmp_path/'données brutes', classes=('chat noir', 'café ☕'))
    (root/'chat noir'/'coupé 1.png').write_bytes(encoded(img())[:500])
    (root/'café ☕'/'page web.jpg').write_text('not an image')
    (root/'café ☕'/'empty.png').write_bytes(b'')
    out = tmp_path/'run é'
    r = cli('train', root, '--strategy', 'feature_extract', '--epochs', 1, '--size', 32, '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'Skipped 3 of 15 files: 1 empty file (café ☕/empty.png); 1 not an image (café ☕/page web.jpg); 1 truncated (chat noir/coupé 1.png)' in r.stdout
    assert 'Batch size lowered from 64 to' in r.stdout
    m = json.loads((out/'metrics.json').read_text(encoding='utf-8'))
    assert {Path(o['file']).name:o['reason'] for o in m['skipped']} == {'coupé 1.png':'truncated', 'page web.jpg':'not an image', 'empty.png':'empty file (0 bytes)'}
    assert m['n_train']+m['n_valid'] == 12
    assert sorted(json.loads((out/'config.json').read_text(encoding='utf-8'))['classes']) == ['café ☕', 'chat noir']

def test_cli_csv_with_problems(tmp_path):
    root = make_data(tmp_path/'data')
    (root/'labels.csv').write_text('fname,label\n' + '\n'.join(f'{c}/{i}.png,{c}' for c in ('cat','dog') for i in range(6)) + '\ncat/0.png,cat\ngone.png,dog\ndog/2.png,\n')
    r = cli('train', root/'labels.csv', '--strategy', 'feature_extract', '--epochs', 1, '--size', 32, '--out', tmp_path/'run', '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'Skipped 3 of 15 rows' in r.stdout
    assert sorted(o['reason'] for o in json.loads((tmp_path/'run'/'metrics.json').read_text())['skipped']) == ['duplicate row', 'empty label', 'missing']

@pytest.mark.parametrize('case,message', [
    ('missing', 'does not exist'),
    ('single', 'at least two classes'),
    ('valid_only', "no training image has: 'owl'"),
    ('valid_no_train', 'has a valid/ folder but no train/ folder'),
    ('unreadable', 'None of the files'),
    ('conflict', 'more than one label'),
    ('empty_csv', 'could not be read as a CSV file'),
    ('bad_bs', 'bs must be at least 1'),
])
def test_cli_errors_are_one_clear_line(tmp_path, case, message):
    data = tmp_path/'data'
    if case=='single': make_data(data, classes=('cat',))
    if case=='valid_only': make_data(data/'train'); make_data(data/'valid', classes=('cat','dog','owl'), n=2)
    if case=='valid_no_train': make_data(data); make_data(data/'valid', n=2)
    if case=='unreadable':
        for f in ('cat/a.png', 'dog/b.jpg'): (data/f).parent.mkdir(parents=True, exist_ok=True); (data/f).write_bytes(b'')
    if case=='conflict':
        make_data(data); data = data/'labels.csv'
        data.write_text('fname,label\ncat/0.png,cat\ncat/0.png,dog\ndog/1.png,dog\n')
    if case=='empty_csv': data.mkdir(parents=True); data = data/'labels.csv'; data.write_text('')
    if case=='bad_bs': make_data(data)
    r = cli('train', data, '--size', 32, '--out', tmp_path/'run', *(['--bs', 0] if case=='bad_bs' else []))
    assert r.returncode == 2, r.stdout+r.stderr
    assert message in r.stderr and 'Traceback' not in r.stderr
    assert r.stderr.startswith('ftkit train: error: ') and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path/'run'/'metrics.json').exists()
