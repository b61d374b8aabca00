"""Synthesise the spoken-command sample that ships in ftkit/samples/commands_sample, and the benchmark's second set.

Every clip is synthetic: a command word spoken by Debian's espeak-ng (or flite, for the second set's held-out
voices) at a chosen speed and pitch, resampled to 16 kHz, placed at a random offset in one second of noise at a
random signal-to-noise ratio, and saved as OGG/Vorbis. Needs `apt-get install espeak-ng flite` and soundfile.

    python scripts/make_audio_sample.py                       # the shipped sample (voices in valid/ never speak in train/)
    python scripts/make_audio_sample.py --second DIR          # train/: 12 espeak-ng voices and 2 of flite's; valid/: 2 other espeak-ng voices, flite's other 2
"""
import argparse, subprocess, tempfile, shutil
from pathlib import Path
import numpy as np, soundfile as sf
from scipy.signal import resample_poly

README = """Spoken-command sample
=====================
Synthesised speech, not recordings: ten command words (yes, no, up, down, left, right, on, off, stop, go) spoken by
Debian's espeak-ng speech synthesiser (GPL-3.0; the clips it makes are not covered by its licence) in 8 English
voices, each at 3 speeds and pitches, by scripts/make_audio_sample.py. Each word is trimmed, placed at a random offset
in one second of noise (hiss and rumble, 10-30 dB below the word) and saved as 16 kHz mono OGG/Vorbis.
train/ holds 6 voices (180 clips), valid/ 2 other voices (60 clips): validation measures words spoken by voices the
model never heard.
"""

WORDS = ['yes','no','up','down','left','right','on','off','stop','go']
SR = 16000

def espeak(word, voice, speed, pitch, fn):
    subprocess.run(['espeak-ng', '-v', voice, '-s', str(speed), '-p', str(pitch), '-w', str(fn), word], check=True, capture_output=True)

def flite(word, voice, speed, pitch, fn):
    # flite's --setf duration_stretch slows or speeds the voice; int_f0_target_mean moves its pitch (Hz)
    subprocess.run(['flite', '-voice', voice, '--setf', f'duration_stretch={150/speed:.2f}', '--setf', f'int_f0_target_mean={pitch}', '-t', word, '-o', str(fn)], check=True, capture_output=True)

def clip(synth, word, voice, speed, pitch, rng, tmp):
    fn = Path(tmp)/'w.wav'
    synth(word, voice, speed, pitch, fn)
    x,sr = sf.read(fn, dtype='float32', always_2d=True)
    x = x.mean(1)
    if sr!=SR:
        g = np.gcd(sr, SR); x = resample_poly(x, SR//g, sr//g).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 0.02*np.abs(x).max())
    x = x[loud[0]:loud[-1]+1][:SR]  # the word, its silences trimmed, at most a second
    x = x/np.abs(x).max()*rng.uniform(0.3, 0.9)
    out = np.zeros(SR, np.float32)
    start = rng.integers(0, SR-len(x)+1)
    out[start:start+len(x)] = x
    snr = rng.uniform(10, 30)  # dB
    noise = rng.standard_normal(SR).astype(np.float32)
    noise = np.cumsum(noise)*0.02 + noise  # some low-frequency rumble under the hiss
    noise -= noise.mean()
    noise *= np.sqrt((x**2).mean()/(noise**2).mean()/10**(snr/10))
    return np.clip(out+noise, -1, 1)

def make(out, splits, seed=0):
    rng = np.random.default_rng(seed)
    out = Path(out)
    if out.exists(): shutil.rmtree(out)
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for split,parts in splits.items():
            for (synth,voices,variants),w in ((p,w) for p in parts for w in WORDS):
                d = out/split/w; d.mkdir(parents=True, exist_ok=True)
                for v in voices:
                    for j,(speed,pitch) in enumerate(variants):
                        sf.write(d/f"{v.replace('+','_')}_{j}.ogg", clip(synth, w, v, speed, pitch, rng, tmp), SR, format='OGG', subtype='VORBIS')
                        n += 1
    return n  # (OGG files differ byte for byte between runs: each stream gets a random serial number)

ESPEAK_TRAIN = ['en-gb+m1','en-us+f2','en-gb-scotland+m3','en-029+f4','en-gb-x-rp+m2','en-gb-x-gbclan+f1']
ESPEAK_VALID = ['en-gb-x-gbcwmd+f3','en-us+m7']
ESPEAK_MORE = ['en-gb+f5','en-us+m4','en-gb-scotland+f2','en-029+m6','en-gb-x-rp+f4','en-gb-x-gbcwmd+m1']
FLITE = ['slt','rms','awb','kal16']

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--second', help='write the benchmark set (voices of espeak-ng and flite; those in valid/ never speak in train/) to this folder instead')
    a = p.parse_args()
    if a.second:
        ev,fv = [(140,40),(175,55),(210,70)],[(150,100),(180,130),(130,170)]
        n = make(a.second, {'train':[(espeak, ESPEAK_TRAIN+ESPEAK_MORE, ev), (flite, FLITE[:2], fv)],
                            'valid':[(espeak, ESPEAK_VALID, ev), (flite, FLITE[2:], fv)]}, seed=1)
    else:
        v,out = [(140,35),(175,55),(210,75)],Path(__file__).parent.parent/'ftkit'/'samples'/'commands_sample'
        n = make(out, {'train':[(espeak, ESPEAK_TRAIN, v)], 'valid':[(espeak, ESPEAK_VALID, v)]})
        (out/'README').write_text(README)
    print(f'{n} clips written')
