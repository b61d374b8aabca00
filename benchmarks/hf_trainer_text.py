"""The anchor of benchmarks/text.py: Hugging Face's `Trainer` with `AutoModelForSequenceClassification` on the same
checkpoint (the offline all-MiniLM-L6-v2), data and split, with its documented defaults for fine-tuning (learning rate
5e-5, 3 epochs, batch size 8, dynamic padding). Prints one JSON line: accuracy, macro F1, wall time.

Run: .venv/bin/python benchmarks/hf_trainer_text.py TRAIN.csv VALID.csv [--epochs 3] [--lr 5e-5] [--bs 8] [--precision fp16]
(columns text,label). Needs `accelerate` (the Trainer's requirement), which the dev install has.
"""
import argparse, json, os, tempfile, time
start = time.perf_counter()
os.environ['HF_HUB_OFFLINE'] = '1'
import numpy as np, pandas as pd, torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments, logging
from ftkit.text.model import offline_model_dir

class DS(torch.utils.data.Dataset):
    def __init__(self, enc, y): self.enc,self.y = enc,y
    def __len__(self): return len(self.y)
    def __getitem__(self, i): return {**{k:v[i] for k,v in self.enc.items()}, 'labels':int(self.y[i])}

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('train'); p.add_argument('valid')
    p.add_argument('--epochs', type=float, default=3.); p.add_argument('--lr', type=float, default=5e-5); p.add_argument('--bs', type=int, default=8)
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--precision', choices=['32','fp16','bf16'], default='32', help="the Trainer's fp16 or bf16 mixed precision (a GPU's)")
    a = p.parse_args()
    logging.set_verbosity_error(); logging.disable_progress_bar()
    tr,va = pd.read_csv(a.train),pd.read_csv(a.valid)
    classes = sorted(tr.label.unique()); o2i = {c:i for i,c in enumerate(classes)}
    src = offline_model_dir()
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=len(classes))
    enc = lambda df: tok(df.text.tolist(), truncation=True, max_length=128)
    dtr,dva = DS(enc(tr), tr.label.map(o2i).values),DS(enc(va), va.label.map(o2i).values)
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), num_train_epochs=a.epochs, learning_rate=a.lr, per_device_train_batch_size=a.bs,
                             per_device_eval_batch_size=64, seed=a.seed, report_to=[], save_strategy='no', eval_strategy='no', logging_strategy='no',
                             disable_tqdm=True, use_cpu=not torch.cuda.is_available(), fp16=a.precision=='fp16', bf16=a.precision=='bf16')
    t = Trainer(model=model, args=args, train_dataset=dtr, data_collator=DataCollatorWithPadding(tok))
    t0 = time.perf_counter(); t.train(); train_s = time.perf_counter()-t0
    logits = t.predict(dva).predictions
    y,pred = dva.y,logits.argmax(1)
    print(json.dumps(dict(accuracy=float(accuracy_score(y, pred)), f1_macro=float(f1_score(y, pred, average='macro')),
                          train_s=round(train_s, 2), wall_s=round(time.perf_counter()-start, 2),
                          gpu_gb=torch.cuda.max_memory_allocated()/2**30 if torch.cuda.is_available() else None)))
