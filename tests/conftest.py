"What several test modules check the same way."
import pytest

@pytest.fixture
def chosen_by():
    def check(rep, monitor):
        "`auto`'s report `rep` (as metrics.json records it) chose the try with the best `monitor` (higher is better): beyond every fine-tuning try and continuation, and the probe it kept"
        tries = rep['tries']
        chosen = next(t for t in tries if t['chosen'])
        probe = min((t for t in tries if t['stage']=='probe' and t.get('valid_loss') is not None), key=lambda t: t['valid_loss'])  # the probe kept: by its loss
        assert all(chosen[monitor] >= t[monitor] for t in tries if t['stage'] in ('candidate', 'continued')), tries
        assert chosen[monitor] >= probe[monitor] and (chosen is probe) == (rep['chosen'] == 'feature_extract'), tries
    return check
