"""The documentation website as a reader sees it: built as `make docs` builds it, served over HTTP, opened in headless
Chromium. Screenshots are kept in tests/artefacts/."""
import functools, http.server, importlib, json, re, subprocess, sys, threading
from configparser import ConfigParser
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag
import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the package the site documents: this checkout's
ART = ROOT/'tests'/'artefacts'
CHROMIUM, CHROMEDRIVER = Path('/usr/bin/chromium'), Path('/usr/bin/chromedriver')
_cfg = ConfigParser(delimiters=['=']); _cfg.read(ROOT/'settings.ini')
SITE_URL = _cfg['DEFAULT']['doc_host'] + _cfg['DEFAULT']['doc_baseurl']  # nbdev's doclinks to it must become relative

VERSION = _cfg['DEFAULT']['version']

def page_of(nb:Path):
    "The page nbdev names for notebook `nb`: `10_vision.data.ipynb` is `vision.data.html`"
    rel = nb.relative_to(ROOT/'nbs')
    return (rel.parent/re.sub(r'^\d+[a-z]?_', '', rel.stem)).as_posix() + '.html'

def api_nbs(): return sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))
def tutorial_nbs(): return sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))

def md_headings(nb:Path, levels=(1,2,3)):
    "Headings of the markdown cells of `nb`, as plain text"
    res = []
    for c in json.loads(nb.read_text())['cells']:
        if c['cell_type']!='markdown': continue
        for h,t in re.findall(r'^(#+)\s+(.*?)\s*$', ''.join(c['source']), flags=re.M):
            if len(h) in levels: res.append(re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', t).replace('`', '').replace('*', ''))
    return res

def n_images(nb:Path):
    "How many plots `nb` keeps in its outputs"
    return sum('image/png' in o.get('data', {}) for c in json.loads(nb.read_text())['cells'] for o in c.get('outputs', []))

class _Ids(HTMLParser):
    def __init__(self): super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs): self.ids.update(v for k,v in attrs if k=='id')

@functools.cache
def ids_of(path:Path):
    p = _Ids(); p.feed(path.read_text()); return p.ids

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'docs'
    r = subprocess.run([sys.executable, ROOT/'scripts'/'docs.py', out], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    return out

@pytest.fixture(scope='module')
def base(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    handler = functools.partial(Quiet, directory=str(site))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}/'
    srv.shutdown()

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium and its driver are needed: `make browser` installs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for o in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--window-size=1400,1000', '--hide-scrollbars',
              f'--user-data-dir={tmp_path_factory.mktemp("chromium")}'):
        opts.add_argument(o)
    b = webdriver.Chrome(options=opts, service=Service(str(CHROMEDRIVER)))
    b.set_page_load_timeout(30)
    yield b
    b.quit()

def js(b, code, *args): return b.execute_script(code, *args)

# Visible text of the page's article, code blocks left out: what must not show Quarto or markdown syntax
ARTICLE = "(document.querySelector('article') || document.querySelector('main'))"
ARTICLE_TEXT = f"""const a = {ARTICLE}.cloneNode(true);
a.querySelectorAll('pre, code, .highlight').forEach(e => e.remove());
document.body.appendChild(a); const t = a.innerText; a.remove(); return t;"""

# The section a (Quarto-style) id belongs to: docutils gives a section its own id and writes the others as spans in it
SECTION = "const e = document.getElementById(arguments[0]); const s = e && e.closest('section');"

def check_reads_well(b, base, site, page):
    "On `page`, open in `b`: links lead somewhere, images load, nothing comes from elsewhere, no source syntax shows"
    b.get(base + page)
    assert js(b, 'return document.readyState') == 'complete'
    # Every link inside the site leads to a page that exists, and to an anchor on it that exists
    hrefs = set(js(b, "return [...document.querySelectorAll('a[href]')].map(a => a.href)"))
    assert not [h for h in hrefs if h.startswith(SITE_URL)], 'doclinks to the site\'s address were not made relative'
    broken = []
    for h in sorted(h for h in hrefs if h.startswith(base)):
        url, frag = urldefrag(h)
        path = site/url[len(base):]
        if path.is_dir() or url.endswith('/'): path = path/'index.html'
        if not path.is_file(): broken.append(h)
        elif frag and frag not in ids_of(path): broken.append(h)
    assert not broken, f'broken links on {page}: {broken}'
    # Nothing is loaded from elsewhere: the site works from any static server, at any path
    srcs = js(b, "return [...document.querySelectorAll('[src], link[href]')].map(e => e.src || e.href)")
    assert all(s.startswith(base) for s in srcs), [s for s in srcs if not s.startswith(base)]
    missing = js(b, "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not missing, f'images that did not load on {page}: {missing}'
    # No Quarto or markdown source shows as text
    text = js(b, ARTICLE_TEXT)
    for leak in (':::', '{target=', '{.callout', '#| ', 'output-file:', '```', '<div', '<a href', '<table', '$$', '\\frac', 'NoneType'):
        assert leak not in text, f'{leak!r} shows as text on {page}'
    assert not re.search(r'^---\s*\n\s*(title|description):', text, flags=re.M), f'frontmatter shows as text on {page}'
    code_links = re.findall(r'\[`[^`]+`\]\([^)]+\)', js(b, f"return {ARTICLE}.innerText"))
    assert not code_links, f'markdown links show as text on {page}: {code_links[:3]}'
    rows = [l for l in text.splitlines() if re.match(r'^\s*\|.*\|\s*$', l)]
    assert not rows, f'markdown table rows show as text on {page}: {rows[:3]}'

def check_page(b, base, site, page, title):
    "`check_reads_well`, the page's title, and a screenshot that shows something (kept in tests/artefacts/)"
    check_reads_well(b, base, site, page)
    assert b.find_element('css selector', 'article h1').text.strip().rstrip('#').strip() == title
    ART.mkdir(exist_ok=True)
    png = ART/(page.replace('/', '_').replace('.html', '.png'))
    b.save_screenshot(str(png))
    from PIL import Image, ImageStat
    img = Image.open(png).convert('L')
    assert ImageStat.Stat(img).stddev[0] > 20 and len(img.getcolors(1<<16)) > 50, f'{png} looks blank'

@functools.cache
def page_of_module(mod):
    "The page where `ftkit.mod` is documented, from nbdev's index of the package"
    from ftkit._modidx import d
    urls = {v[0].split('#')[0] for v in d['syms'].get(f'ftkit.{mod}', {}).values()}
    assert len(urls)==1, f'ftkit.{mod} is documented on {urls or "no page"}'
    return urls.pop()

def public_modules():
    res = []
    for p in sorted([*(ROOT/'ftkit').glob('[a-z]*.py'), *(ROOT/'ftkit').glob('[a-z]*/[a-z]*.py')]):
        m = importlib.import_module('ftkit.' + '.'.join(p.relative_to(ROOT/'ftkit').with_suffix('').parts))
        if getattr(m, '__all__', None): res.append(m)
    return res

def test_home_page(browser, base, site):
    nb = ROOT/'nbs'/'index.ipynb'
    check_page(browser, base, site, 'index.html', 'ftkit')
    headings = [e.text.strip() for e in browser.find_elements('css selector', 'article h2')]
    for h in md_headings(nb, levels=(2,)): assert h in headings
    # The sidebar: the home page, the tutorials, then the core's chapters and the vision package's, in reading order
    caps = [e.text.strip() for e in browser.find_elements('css selector', '.bd-sidenav .caption-text, nav.bd-links .caption-text')]
    assert caps[:3] == ['Tutorials', 'Core', 'Vision'], caps
    links = js(browser, "return [...document.querySelectorAll('nav.bd-links a.reference')].map(a => a.getAttribute('href'))")
    tutorials, api = [page_of(p) for p in tutorial_nbs()], [page_of(p) for p in api_nbs()]
    assert sorted(l for l in links if l.startswith('tutorials/')) == sorted(tutorials), links
    assert [l for l in links if l in api] == api, links
    assert len(links) == len(tutorials) + len(api) + 1, links  # and the home page

def entry_text(b, oid):
    "The text of the API entry with id `oid` (its `<dl>`: signature, docstring, parameter table, methods)"
    return js(b, "const e = document.getElementById(arguments[0]); return e && e.closest('dl') ? e.closest('dl').innerText : null", oid)

def test_api_page(browser, base, site):
    nb = ROOT/'nbs'/'10_vision.data.ipynb'
    check_page(browser, base, site, 'vision.data.html', 'Data')
    headings = [e.text.strip() for e in browser.find_elements('css selector', 'article h2, article h3')]
    for h in md_headings(nb, levels=(2,)): assert h in headings
    import inspect, ftkit.vision.data
    for name in ftkit.vision.data.__all__:
        assert name in headings
        o = getattr(ftkit.vision.data, name)
        sig = js(browser, "const e = document.getElementById(arguments[0]); return e && e.innerText", f'ftkit.vision.data.{name}')
        assert sig and sig.lstrip().startswith(('class ' if inspect.isclass(o) else '') + name), (name, sig)
    # A signature, then a table of parameters: name, type, default, and the description rendered as markdown
    rows = js(browser, """const d = document.getElementById('ftkit.vision.data.image_dls').closest('dl');
        return [...d.querySelectorAll('table tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))""")
    params = list(inspect.signature(ftkit.vision.data.image_dls).parameters)
    assert [r[0].lstrip('*') for r in rows] == params, rows
    assert ['size', 'int', '224', 'Side of the square the images are resized to'] in rows, rows
    assert js(browser, """return [...document.getElementById('ftkit.vision.data.image_dls').closest('dl').querySelectorAll('table td a code, table td code')]
        .some(c => c.innerText == 'aug_tfms')""")  # backticks in a description are code, not literal backticks
    sig_w = js(browser, "return document.getElementById('ftkit.vision.data.image_dls').scrollWidth <= document.getElementById('ftkit.vision.data.image_dls').clientWidth + 1")
    assert sig_w, 'the signature of image_dls needs a horizontal scrollbar'
    assert len(browser.find_elements('css selector', 'article img')) >= n_images(nb) > 0
    # Doclinks to the names on the page resolve (checked above) and lead to their entries
    assert browser.find_elements('css selector', 'article a[href="vision.data.html#image_dls"], article a[href="#image_dls"]')
    browser.get(base + 'vision.data.html#ftkit.vision.data.image_dls')
    ART.mkdir(exist_ok=True); browser.save_screenshot(str(ART/'api_entry_image_dls.png'))
    # Classes read as classes, with their methods; fastai's callback events are not listed as parameters
    browser.get(base + 'callbacks.html')
    nan = entry_text(browser, 'ftkit.callbacks.NanGuard')
    assert nan.startswith('class NanGuard') and 'before_fit' not in nan and 'after_create' not in nan, nan
    best = entry_text(browser, 'ftkit.callbacks.BestModel')
    for m in ('load_best', 'summary'): assert js(browser, "return !!document.getElementById(arguments[0])", f'ftkit.callbacks.BestModel.{m}'), m
    assert best.startswith('class BestModel(')
    for m in ('before_fit', 'after_epoch', 'after_fit'):  # fastai's events, which BestModel implements: not its API
        assert not js(browser, "return !!document.getElementById(arguments[0])", f'ftkit.callbacks.BestModel.{m}'), m

def test_tutorial_page(browser, base, site):
    nb = ROOT/'nbs'/'tutorials'/'fine_tune_vs_scratch.ipynb'
    check_page(browser, base, site, 'tutorials/fine_tune_vs_scratch.html', 'Fine-tuning, feature extraction or training from scratch?')
    headings = [e.text.strip() for e in browser.find_elements('css selector', 'article h2, article h3')]
    for h in md_headings(nb, levels=(2,3)): assert h in headings
    assert len(browser.find_elements('css selector', 'article img')) >= n_images(nb) >= 3
    assert browser.find_elements('css selector', 'article .cell .cell_input') and browser.find_elements('css selector', 'article .cell .cell_output')
    assert browser.find_elements('css selector', 'article .cell_output table')  # the measured tables, as tables
    assert browser.find_elements('css selector', 'article a[href="../compare.html#compare_strategies"]')

def test_search(browser, base, site):
    browser.get(base + 'search.html?q=image_dls')
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 20).until(lambda b: b.find_elements('css selector', '#search-results li'))
    hits = js(browser, "return [...document.querySelectorAll('#search-results li a')].map(a => a.getAttribute('href'))")
    assert any(h.startswith('vision.data.html') for h in hits), hits

def test_every_page_reads_well(browser, base, site):
    pages = [page_of(nb) for nb in [ROOT/'nbs'/'index.ipynb', *api_nbs(), *tutorial_nbs()]]
    for p in pages: assert (site/p).is_file(), p
    for p in pages + ['search.html', 'genindex.html']: check_reads_well(browser, base, site, p)
    assert (site/'.nojekyll').is_file()

def inventory(site):
    "`objects.inv` as another Sphinx site's intersphinx reads it: {role: {name: (project, version, uri, text)}}"
    from sphinx.util.inventory import InventoryFile
    import posixpath
    with open(site/'objects.inv', 'rb') as f: inv = InventoryFile.load(f, '', posixpath.join)
    items_of = inv.data if hasattr(inv, 'data') else inv
    return {role: {k: (v.project_name, v.project_version, v.uri, v.display_name) if hasattr(v, 'uri') else tuple(v) for k,v in items.items()}
            for role,items in items_of.items()}

def public_methods(cls):
    "The public methods and properties a class adds in its own body, less fastai's callback events and what it overrides of a base class (a task's interface)"
    import inspect
    from fastai.callback.core import _events
    return [k for k,v in cls.__dict__.items() if not k.startswith('_') and k not in _events and not any(k in b.__dict__ for b in cls.__mro__[1:])
            and (isinstance(v, (property, staticmethod, classmethod)) or inspect.isfunction(v))]

def test_every_public_name_is_documented(browser, base, site):
    """Every name in a module's `__all__`, and every public method of a public class, has an entry on its module's page,
    listed in `objects.inv` (so that other Sphinx sites can link to it) and in the general index; a function's or a class's
    entry holds each of its parameters' docments"""
    import inspect
    from fastcore.docments import docments
    inv = inventory(site)
    names = {k:v for role,items in inv.items() if role.startswith('py:') for k,v in items.items()}
    genindex = (site/'genindex.html').read_text()
    expected = []
    for m in public_modules():
        page = page_of_module(m.__name__.split('.', 1)[1])
        assert names.get(m.__name__, ('','','',''))[2].split('#')[0] == page, f'{m.__name__} is not in the module index'
        for name in m.__all__:
            o = getattr(m, name)
            expected.append((f'{m.__name__}.{name}', page, o))
            if inspect.isclass(o) and o.__module__ == m.__name__:
                expected += [(f'{m.__name__}.{name}.{k}', page, None) for k in public_methods(o)]
    missing = [k for k,page,_ in expected if k not in names or names[k][2] != f'{page}#{k}']
    assert not missing, f'public names without an entry (or on another page) in objects.inv: {missing}'
    # and nothing else: an object shown on another module's page is not indexed there again
    known = {k for k,_,_ in expected} | {m.__name__ for m in public_modules()}
    def defined_in(k):
        "Whether `k` (module.name[.attr]) names an object that module defines (a method it patches onto fastai's `Learner` included)"
        mod = max((m for m in known if k.startswith(m + '.') and m in sys.modules), key=len, default=None)
        if mod is None: return False
        o = sys.modules[mod]
        for a in k[len(mod)+1:].split('.'):
            o = inspect.getattr_static(o, a, None) if inspect.isclass(o) else getattr(o, a, None)
            if o is None: return False
        o = getattr(o, '__func__', getattr(o, 'fget', o))
        return getattr(o, '__module__', None) == mod
    extra = [k for role,items in inv.items() if role.startswith('py:') for k in items if k not in known and not defined_in(k)]
    assert not extra, f'objects.inv lists names that are not public names of their module: {extra}'
    for k in ('ftkit.export.Predictor.probs', 'ftkit.export.Predictor.preprocess', 'ftkit.callbacks.History.df', 'ftkit.callbacks.BestModel.summary',
              'ftkit.callbacks.BestModel.load_best', 'ftkit.strategies.Strategy.phases', 'ftkit.strategies.Strategy.total_epochs',
              'ftkit.strategies.Strategy.to_dict', 'ftkit.strategies.strategy_names', 'ftkit.vision.models.OFFLINE_WEIGHTS', 'ftkit.export.FORMAT'):
        assert k in names, k
    not_indexed = [k for k,page,_ in expected if f'href="{page}#{k}"' not in genindex]
    assert not not_indexed, f'missing from the general index: {not_indexed}'
    # each entry holds its docments, rendered
    wrong = []
    for page in sorted({p for _,p,_ in expected}):
        browser.get(base + page)
        for k,p,o in expected:
            if p != page: continue
            text = entry_text(browser, k)
            if text is None: wrong.append(f'{k} (no entry on {page})'); continue
            if o is None or not callable(o): continue
            if isinstance(o, type) and not next(c for c in o.__mro__ if '__init__' in c.__dict__).__module__.startswith('ftkit'): continue  # made by another library's __init__: no parameters of its own
            norm = ' '.join(text.split())
            docs = [v for v in docments(o).values() if isinstance(v, str) and v.strip()]
            if any(' '.join(d.replace('`', '').split()) not in norm for d in docs): wrong.append(f'{k} (its docments)')
    assert not wrong, wrong

def test_objects_inv_links_resolve(site):
    "Each entry of `objects.inv` leads to a page that exists and an anchor on it: what intersphinx on another site relies on"
    broken = []
    for role,items in inventory(site).items():
        for k,(_,_,uri,_) in items.items():
            path, _, frag = uri.partition('#')
            if not (site/path).is_file() or (frag and frag not in ids_of(site/path)): broken.append(f'{role} {k} -> {uri}')
    assert not broken, broken
    assert (site/'py-modindex.html').is_file() and (site/'genindex.html').is_file()

def site_pages(site): return sorted(p for p in site.rglob('*.html') if '_static' not in p.parts and '_sources' not in p.parts)

def test_outputs_are_clean(site):
    """No page shows this machine's paths, a warning, a progress bar stopped short of its end, `NoneType` as a type, or
    markup that was not rendered; every page names the version and has its code blocks' copy buttons set up"""
    import html as H
    bad = []
    for p in site_pages(site):
        raw = p.read_text()
        raw_nomath = re.sub(r'<(div|span) class="math[^"]*">.*?</\1>', ' ', raw, flags=re.S)  # TeX for MathJax, typeset in the browser (test_math_rendered_offline)
        text = H.unescape(re.sub(r'<[^>]+>', ' ', re.sub(r'<(script|style)\b.*?</\1>', ' ', raw_nomath, flags=re.S)))
        rel = p.relative_to(site).as_posix()
        for leak in (str(ROOT), '/root/', '/home/', '/tmp/tmp', '/var/folders', 'site-packages', '.venv/lib'):
            if leak in text: bad.append(f'{rel}: a local path ({leak})')
        for w in re.findall(r'\b\w*Warning: .{0,60}', text): bad.append(f'{rel}: a warning ({w})')
        for tag in re.findall(r'<progress\b[^>]*>', raw):
            v,mx = (re.search(rf'{k}="([\d.]+)"', tag) for k in ('value', 'max'))
            if v and mx and float(v[1]) < float(mx[1]): bad.append(f'{rel}: a progress bar stopped at {v[1]}/{mx[1]}')
        if 'NoneType' in text: bad.append(f'{rel}: NoneType')
        for m in ('$$', ':::', '#| ', '\\frac', '{.callout'):
            if m in re.sub(r'<(pre|code)\b.*?</\1>', ' ', raw_nomath, flags=re.S) and m in text: bad.append(f'{rel}: raw markup {m!r}')
        if f'{_cfg["DEFAULT"]["lib_name"]} {VERSION}' not in text: bad.append(f'{rel}: no version')
        if '<pre' in raw and 'copybutton' not in raw: bad.append(f'{rel}: code without copy buttons')
    assert not bad, bad

def test_math_rendered_offline(browser, base, site):
    "The L2-SP penalty is typeset by the site's own MathJax: no `$$`, no request elsewhere (`check_reads_well`)"
    check_reads_well(browser, base, site, 'adapt.html')
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 20).until(lambda b: b.find_elements('css selector', 'mjx-container svg'))
    assert js(browser, "return [...document.scripts].some(s => s.src.endsWith('_static/mathjax/tex-svg.js'))")
    assert (site/'_static'/'mathjax'/'tex-svg.js').is_file()
    browser.execute_script("document.querySelector('mjx-container').scrollIntoView({block: 'center'})")
    ART.mkdir(exist_ok=True); browser.save_screenshot(str(ART/'math_adapt.png'))

def test_copy_buttons(browser, base, site):
    browser.get(base + 'tutorials/deploy.html')
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 10).until(lambda b: b.find_elements('css selector', 'button.copybtn'))
    n_code = len(browser.find_elements('css selector', 'div.highlight pre'))
    assert n_code and len(browser.find_elements('css selector', 'button.copybtn')) == n_code
    assert VERSION in browser.find_element('css selector', '.navbar-brand, .bd-sidebar-primary').text

def test_cli_reference_page(browser, base, site):
    "The command-line reference lists every option of every command, as the parser has them"
    import argparse
    from ftkit.cli import parser
    check_page(browser, base, site, 'cli_reference.html', 'Command-line reference')
    text = js(browser, f"return {ARTICLE}.innerText")
    p = parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    # the options each table names in its first column, section by section ('-q, --quiet' names two)
    listed = js(browser, """return [...document.querySelectorAll('article section')].filter(s => s.querySelector('h2')).map(s =>
        [s.querySelector('h2').innerText.replace('#', '').trim(), [...s.querySelectorAll('table tbody tr td:first-child')].map(td => td.innerText)])""")
    opts = {h: {o.split(' ')[0] for cell in cells for o in cell.split(', ')} for h,cells in listed}
    missing = [f'{n} {o}' for n,sp in sub.choices.items() for a in sp._actions for o in a.option_strings if o not in opts.get(f'ftkit {n}', ())]
    assert not missing, f'options not on the reference page: {missing}'
    for n in sub.choices: assert js(browser, "return !!document.getElementById(arguments[0])", f'ftkit-{n}'), n
    assert '--l2sp ALPHA' in text and '%(default)s' not in text and '\u2013out' not in text  # no smart dashes in option names
    browser.get(base + 'cli_reference.html#ftkit-train')
    ART.mkdir(exist_ok=True); browser.save_screenshot(str(ART/'cli_reference_train.png'))

def test_quarto_syntax_is_rendered(tmp_path):
    "What the notebooks may use of Quarto's markdown becomes Sphinx's, not literal text: a one-page site"
    import importlib.util, nbformat
    spec = importlib.util.spec_from_file_location('build_docs', ROOT/'scripts'/'docs.py')
    docs = importlib.util.module_from_spec(spec); spec.loader.exec_module(docs)
    proc = tmp_path/'proc'; proc.mkdir()
    (proc/'sidebar.yml').write_text('website:\n  sidebar:\n    contents:\n      - index.ipynb\n')
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell('---\ntitle: Callouts\ndescription: A page\noutput-file: index.html\n---\n'),
        nbformat.v4.new_markdown_cell('::: {.callout-tip}\n## Worth knowing\nTips render as admonitions.\n:::\n\n'
                                      '::: {.callout-warning title="Careful"}\nSo do warnings.\n:::\n\n'
                                      f'See [`image_dls`]({SITE_URL}/data.html#image_dls).'),
        nbformat.v4.new_code_cell('#| echo: false\n#| output: asis\nshow_doc(f)', outputs=[nbformat.v4.new_output('display_data',
            data={'text/markdown': f'---\n\n[source](https://example.org/f.py#L1){{target="_blank" style="float:right"}}\n\n### f\n\n'
                                   f'```python\ndef f(\n    x, # A [`image_dls`]({SITE_URL}/data.html#image_dls) argument\n):\n```\n\n*Doc*'})]),
    ])
    nbformat.write(nb, proc/'index.ipynb')
    docs.convert(proc, tmp_path/'src')
    docs.sphinx(tmp_path/'src', tmp_path/'html')
    html = (tmp_path/'html'/'index.html').read_text()
    assert '"tip admonition"' in html and 'Worth knowing' in html and '"warning admonition"' in html and 'Careful' in html
    assert 'href="data.html#image_dls"' in html and SITE_URL not in html
    assert '<a href="https://example.org/f.py#L1" target="_blank" style="float:right">source</a>' in html
    assert 'id="f"' in html and 'show_doc' not in html
    text = re.sub(r'<[^>]+>', '', html)
    for leak in (':::', '{.callout', '{target=', 'output-file', '](data.html'): assert leak not in text, leak
