"""Audio: ftkit's default against three baselines, on clips spoken by voices the model never heard.

    python benchmarks/audio.py                  # both sets, seeds 0 1 2, ftkit's default epochs
    python benchmarks/audio.py --seeds 0 --sets sample

Sets (all synthesised, see scripts/make_audio_sample.py): `sample` is the bundled sample (180 training clips from 6
espeak-ng voices, 60 validation clips from 2 other espeak-ng voices); `voices` trains on 420 clips of 12 espeak-ng voices
and 2 of flite's, and validates on 120 clips of 2 other espeak-ng voices and flite's other 2 (generated into
~/.cache/ftkit/benchmarks/commands_voices on first use; needs espeak-ng and flite).

Each row is a whole process, timed from outside, one at a time:
- `ftkit train DATA` with its defaults (pretrained MobileNetV2 on log-mel spectrograms);
- `ftkit train DATA --weights none`: the same network and epochs from scratch;
- MFCC statistics into an SVM: 20 MFCCs (the DCT of the same log-mel spectrogram) and their deltas, mean and standard
  deviation over time, standardised, into scikit-learn's RBF `SVC` (C=10);
- M5, the raw-waveform CNN of PyTorch's speech-command tutorial (Dai et al. 2017), trained from scratch as the tutorial
  does (8 kHz, Adam at 0.01, weight decay 1e-4, step decay), for the same epochs as ftkit, batch 32.
Prints a table (accuracy mean and std over seeds, whole-process wall time) and writes benchmarks/audio.csv."""
import argparse, json, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VOICES = Path.home()/'.cache'/'ftkit'/'benchmarks'/'commands_voices'

def data_of(name):
    if name=='sample':
        from ftkit.audio.clip import sample_audio
        return sample_audio()
    if not (VOICES/'valid').is_dir(): subprocess.run([sys.executable, str(ROOT/'scripts'/'make_audio_sample.py'), '--second', str(VOICES)], check=True)
    return VOICES

def clips(data, split, sr=16000):
    from ftkit.audio.clip import read_clip, fit_length
    files = sorted((Path(data)/split).glob('*/*.ogg'))
    classes = sorted({f.parent.name for f in files})
    return np.stack([fit_length(read_clip(f, sr), sr) for f in files]),np.array([classes.index(f.parent.name) for f in files])

def svm_main(data, seed):
    "MFCC statistics into an SVM; prints the accuracy"
    import torch
    from scipy.fft import dct
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from ftkit.audio.clip import LogMel
    fe = LogMel()
    def feats(x):
        with torch.no_grad(): m = fe(torch.from_numpy(x)).numpy()
        c = dct(m, type=2, axis=1, norm='ortho')[:, :20]
        d = np.diff(c, axis=2)
        return np.concatenate([c.mean(2), c.std(2), d.mean(2), d.std(2)], 1)
    (xt,yt),(xv,yv) = clips(data, 'train'),clips(data, 'valid')
    clf = make_pipeline(StandardScaler(), SVC(C=10, random_state=seed)).fit(feats(xt), yt)
    print(json.dumps(dict(accuracy=float((clf.predict(feats(xv))==yv).mean()))))

def m5_main(data, seed, epochs):
    "PyTorch's speech-command tutorial's M5 from scratch at 8 kHz; prints the accuracy"
    import torch, torch.nn as nn, torch.nn.functional as F
    torch.manual_seed(seed); np.random.seed(seed)
    (xt,yt),(xv,yv) = clips(data, 'train', 8000),clips(data, 'valid', 8000)
    class M5(nn.Module):
        def __init__(self, n_out, stride=16, ch=32):
            super().__init__()
            self.c1,self.b1 = nn.Conv1d(1, ch, 80, stride=stride),nn.BatchNorm1d(ch)
            self.c2,self.b2 = nn.Conv1d(ch, ch, 3),nn.BatchNorm1d(ch)
            self.c3,self.b3 = nn.Conv1d(ch, 2*ch, 3),nn.BatchNorm1d(2*ch)
            self.c4,self.b4 = nn.Conv1d(2*ch, 2*ch, 3),nn.BatchNorm1d(2*ch)
            self.fc = nn.Linear(2*ch, n_out)
        def forward(self, x):
            for c,b in ((self.c1,self.b1),(self.c2,self.b2),(self.c3,self.b3),(self.c4,self.b4)): x = F.max_pool1d(F.relu(b(c(x))), 4)
            return self.fc(F.avg_pool1d(x, x.shape[-1]).squeeze(-1))
    model = M5(int(yt.max())+1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs*2//3), gamma=0.1)
    xt_,yt_ = torch.from_numpy(xt)[:,None],torch.from_numpy(yt)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(xt_)).split(32):
            opt.zero_grad(); F.cross_entropy(model(xt_[idx]), yt_[idx]).backward(); opt.step()
        sched.step()
    model.eval()
    with torch.no_grad(): p = model(torch.from_numpy(xv)[:,None]).argmax(1).numpy()
    print(json.dumps(dict(accuracy=float((p==yv).mean()))))

def timed(cmd, out=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter()-t
    if r.returncode: raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    acc = json.loads((Path(out)/'metrics.json').read_text())['accuracy'] if out else json.loads(r.stdout.strip().splitlines()[-1])['accuracy']
    return acc,wall

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sets', default='sample,voices')
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--epochs', type=int, default=None, help="epochs of every trained method (default: ftkit's audio default)")
    p.add_argument('--out', default=str(ROOT/'benchmarks'/'audio.csv'))
    p.add_argument('--only', default=None, help=argparse.SUPPRESS)
    p.add_argument('--data', default=None, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    from ftkit.audio.task import AudioClassification
    epochs = a.epochs or AudioClassification.default_epochs
    if a.only=='svm': return svm_main(a.data, a.seed)
    if a.only=='m5': return m5_main(a.data, a.seed, epochs)
    rows,tmp = [],Path('/tmp')/'ftkit_audio_bench'
    for s in a.sets.split(','):
        data = str(data_of(s))
        for seed in map(int, a.seeds.split(',')):
            out = tmp/f'{s}_{seed}'
            runs = {'ftkit default': ([BIN/'ftkit', 'train', data, '--seed', str(seed), '--out', str(out/'default'), '-q', '--no-forgetting'] + (['--epochs', str(a.epochs)] if a.epochs else []), out/'default'),
                    'ftkit --weights none': ([BIN/'ftkit', 'train', data, '--weights', 'none', '--epochs', str(epochs), '--seed', str(seed), '--out', str(out/'scratch'), '-q', '--no-forgetting'], out/'scratch'),
                    'MFCC stats + SVM': ([sys.executable, __file__, '--only', 'svm', '--data', data, '--seed', str(seed)], None),
                    'M5 from scratch': ([sys.executable, __file__, '--only', 'm5', '--data', data, '--seed', str(seed), '--epochs', str(epochs)], None)}
            for name,(cmd,o) in runs.items():
                acc,wall = timed(list(map(str, cmd)), o)
                rows.append(dict(set=s, method=name, seed=seed, accuracy=round(acc, 4), wall_s=round(wall, 1)))
                print(f'{s:7s} {name:22s} seed {seed}: accuracy {acc:.3f}, {wall:.1f} s', flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(a.out, index=False)
    t = df.groupby(['set','method'], sort=False).agg(accuracy=('accuracy','mean'), std=('accuracy','std'), wall_s=('wall_s','mean')).reset_index()
    base = t[t.method=='ftkit default'].set_index('set')
    t['acc_vs_ftkit'] = [r.accuracy-base.loc[r.set,'accuracy'] for r in t.itertuples()]
    t['wall_vs_ftkit'] = [r.wall_s/base.loc[r.set,'wall_s'] for r in t.itertuples()]
    print(f'\nepochs {epochs}, seeds {a.seeds} (accuracy on voices never heard in training; wall: whole process)')
    print(t.to_string(index=False, float_format=lambda v: f'{v:.3f}'))

if __name__=='__main__': main()
