"""BatchNorm folded into the convolutions (`ftkit.features.fold_batchnorm`): the body's pass of the feature cache with the
model as it is, and with its folded copy, side by side in one process, interleaved.

For each offline backbone and image size: a pass in eval mode, without gradients, over the same random images in batches of
64 (channels-last, as `ft_learner` keeps a model on a CPU), of `forward_features` then the pooling, as
`ImageClassification.features` computes the cache; best of `--repeats`. Also how far the folded copy's features are from
the model's (the largest difference, against the largest feature), and how long folding takes.

Run: .venv/bin/python benchmarks/fold_bn.py [--repeats 3]
Prints a table (seconds and the speed-up) and writes benchmarks/fold_bn.csv."""
import argparse, time
from pathlib import Path
import pandas as pd, torch, timm
from ftkit.features import fold_batchnorm
from ftkit.vision.models import offline_weights, load_state

HERE = Path(__file__).resolve().parent
CASES = [('mobilenetv2_100', 64, 3000), ('mobilenetv2_100', 224, 256), ('tf_efficientnet_lite0', 64, 3000), ('tf_efficientnet_lite0', 224, 256)]

def body(arch):
    m = timm.create_model(arch, pretrained=False, num_classes=0)
    m.load_state_dict({k:v for k,v in load_state(offline_weights(arch)).items() if not k.startswith('classifier.')})
    return m.eval().to(memory_format=torch.channels_last)

@torch.no_grad()
def features(m, x, bs=64):
    return torch.cat([m.forward_head(m.forward_features(x[i:i+bs].contiguous(memory_format=torch.channels_last)), pre_logits=True) for i in range(0, len(x), bs)])

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter()-t, r

def main(a):
    torch.manual_seed(0)
    rows = []
    for arch,size,n in CASES:
        m = body(arch)
        fold_s,fm = timed(lambda: fold_batchnorm(m))
        x = torch.randn(n, 3, size, size)
        plain,folded = [],[]
        for _ in range(a.repeats):
            s,ref = timed(lambda: features(m, x)); plain.append(s)
            s,out = timed(lambda: features(fm, x)); folded.append(s)
        rows.append(dict(arch=arch, size=size, images=n, model_s=round(min(plain), 2), folded_s=round(min(folded), 2),
                         speedup=round(min(plain)/min(folded), 2), fold_s=round(fold_s, 3),
                         max_diff_rel=float((out-ref).abs().max()/ref.abs().max())))
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows)==1), flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(HERE/'fold_bn.csv', index=False)
    print(f"\n{torch.get_num_threads()} threads; the cache's pass, best of {a.repeats} (seconds):")
    print(df.to_string(index=False))

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeats', type=int, default=3)
    main(p.parse_args())
