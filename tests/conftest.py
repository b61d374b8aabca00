"What several test modules check the same way."
import json
import pytest

def pytest_configure(config):
    config.addinivalue_line('markers', "slow: half a minute or more on 2 cores, beside a lighter test of the same code; `make test` leaves it to `make test-slow`")

def implied_choice(tries, monitor):
    """The row of `auto`'s report (`tries`, as metrics.json records them) that its choice must be, from the rows alone, and
    the strategy that row names: the probe it kept (the lowest selection loss), unless the best fine-tuning try (the first
    among equals), continued where it went on, beat it by `monitor`"""
    sign = -1 if 'loss' in monitor or 'error' in monitor else 1
    probe = min((t for t in tries if t['stage']=='probe' and t.get('valid_loss') is not None), key=lambda t: t['valid_loss'])
    best = max((t for t in tries if t['stage']=='candidate' and t.get(monitor) is not None), key=lambda t: sign*t[monitor], default=None)
    cont = next((t for t in tries if t['stage']=='continued'), None)
    if cont is not None: assert best is not None and cont['name'] == best['name'], tries  # the best try is the one continued
    ft = cont or best
    if ft is not None and sign*ft[monitor] > sign*probe[monitor]: return ft,ft['name'].split(':')[0]
    return probe,'feature_extract'

@pytest.fixture
def chosen_by():
    def check(rep, monitor):
        "`auto`'s report `rep` (as metrics.json records it) chose, by `monitor`, the one row its tries imply, and names its strategy"
        row,name = implied_choice(rep['tries'], monitor)
        assert [t for t in rep['tries'] if t['chosen'] and t['stage'] != 'refit'] == [row], rep['tries']
        assert rep['chosen'] == name and rep['monitor'] == monitor, rep
    return check

def evaluates_as_trained(ftkit, run, valid, out, *opts):
    """`ftkit evaluate` (run by `ftkit`, the test module's runner) of run folder `run` on its own validation items `valid`
    gives exactly the figures of its metrics.json, and writes the same report into `out`, less its history"""
    from ftkit.core import get_task
    r = ftkit('evaluate', run, valid, '--out', out, *opts)
    assert r.returncode == 0, r.stderr
    m,ev = (json.loads((d/'metrics.json').read_text()) for d in (run, out))
    keys = get_task(m['task']).metric_keys
    assert {k:(v, m[k]) for k in keys if abs((v := ev[k]) - m[k]) > 1e-6} == {}  # every figure, to 1e-6
    assert ev['n'] == m['n_valid'] and ev['task'] == m['task']
    assert ev['per_class'].keys() == m['per_class'].keys()
    ran = {f.name for f in run.iterdir() if f.suffix in ('.png', '.csv')} - {'history.png', 'history.csv'}
    assert {f.name for f in out.iterdir()} == ran | {'metrics.json'}  # the run's report, less its history
    assert f"{keys[1]:<16}{m[keys[1]]:.4f}" in r.stdout
    return ev
