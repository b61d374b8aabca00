"""Which layers static int8 keeps in float32: the int8 model's accuracy and latency for each choice, on one CPU.

ftkit's static recipe (`ftkit.quantize._quantize_file`) quantises every layer with weights except the first and the last
(`_end_layers`). On x86 CPUs without VNNI, ONNX Runtime multiplies uint8 activations by int8 weights adding pairs of products
in 16 bits, which can saturate; this script shows where that bites. Two head-only MobileNetV2 models on the bundled sample,
each trained by a whole `ftkit train` command:
- the deploy tutorial's: `--strategy feature_extract --epochs 2 --size 64`;
- the int8 chapter's: `--strategy feature_extract --epochs 1 --size 32`;
each quantised by `quantize_model` five ways, scored on the 200 validation images beside its fp32 model and timed:
every layer int8; the last layer kept in float32; the first; both (ftkit's recipe); and every layer int8 with uint8
weights (U8U8, which cannot saturate).

Run: .venv/bin/python benchmarks/int8_layers.py
Prints the CPU, a table (accuracy lost in points, int8 and fp32 ONNX latency at batch 1 and 32, file size) and writes benchmarks/int8_layers.csv."""
import argparse, subprocess, sys, tempfile
from pathlib import Path
import pandas as pd
import onnxruntime.quantization as oq
import ftkit.quantize as Q
from ftkit.vision.data import sample_data

HERE = Path(__file__).resolve().parent
MODELS = {'deploy tutorial (head only, 2 epochs, 64 px)': ('sample', ['--strategy', 'feature_extract', '--epochs', '2', '--size', '64']),
          'int8 chapter (head only, 1 epoch, 32 px)': ('sample', ['--strategy', 'feature_extract', '--epochs', '1', '--size', '32']),
          'sample, fine_tune 4 epochs, 64 px': ('sample', ['--strategy', 'fine_tune', '--epochs', '4', '--size', '64']),
          'Fashion-MNIST 2,000/1,000, fine_tune 4 epochs, 64 px': ('fashion', ['--strategy', 'fine_tune', '--epochs', '4', '--size', '64'])}
shipped_ends,shipped_static = Q._end_layers,oq.quantize_static
CHOICES = {'every layer int8': dict(ends=lambda fn: []),
           'last layer float32': dict(ends=lambda fn: shipped_ends(fn)[-1:]),
           'first layer float32': dict(ends=lambda fn: shipped_ends(fn)[:1]),
           'first and last float32 (ftkit)': dict(ends=shipped_ends),
           'every layer int8, uint8 weights (U8U8)': dict(ends=lambda fn: [], weight_type=oq.QuantType.QUInt8)}

def vnni()->str:
    try: flags = next(l for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('flags')).split()
    except (OSError, StopIteration): return 'unknown'
    return 'yes' if {'avx512_vnni', 'avx_vnni'} & set(flags) else 'no'

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--no-larger', action='store_true', help='the bundled sample only')
    a = p.parse_args()
    tmp,rows = Path(tempfile.mkdtemp()),[]
    for model,(data,args) in MODELS.items():
        if data=='fashion':
            if a.no_larger: continue
            sys.path.insert(0, str(HERE)); from fashion import fashion_folder
            data = fashion_folder(Path.home()/'.cache'/'ftkit'/'benchmarks'/'fashion2000')
        else: data = sample_data()
        d = tmp/f'm{len(rows)}'
        subprocess.run([str(Path(sys.executable).parent/'ftkit'), 'train', str(data), *args,
                        '--out', str(d), '--quiet', '--no-forgetting'], check=True, capture_output=True)
        for choice,o in CHOICES.items():
            Q._end_layers = o['ends']
            oq.quantize_static = lambda *a, _w=o.get('weight_type'), **k: shipped_static(*a, **{**k, **({'weight_type': _w} if _w else {})})
            try: r = Q.quantize_model(d, Path(data)/'valid', repeats=30, max_drop=100, verbose=False)
            finally: Q._end_layers,oq.quantize_static = shipped_ends,shipped_static
            L = r['latency_ms']
            rows.append(dict(model=model, choice=choice, fp32=r['fp32']['accuracy'], int8=r['int8']['accuracy'], drop_points=r['drop_points'],
                             b1_onnx_fp32_ms=L['batch_1']['onnx_fp32']['median_ms'], b1_onnx_int8_ms=L['batch_1']['onnx_int8']['median_ms'],
                             b32_onnx_fp32_ms=L['batch_32']['onnx_fp32']['median_ms'], b32_onnx_int8_ms=L['batch_32']['onnx_int8']['median_ms'],
                             int8_mb=r['size_mb']['model.int8.onnx']))
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df['b32_speedup'] = (df.b32_onnx_fp32_ms/df.b32_onnx_int8_ms).round(2)
    print(f"\nCPU: {Q._cpu()}, VNNI: {vnni()}, ONNX Runtime {Q._ort_version()}\n")
    print(df.to_markdown(index=False))
    df.to_csv(HERE/'int8_layers.csv', index=False)

if __name__ == '__main__': main()
