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

# Public names (module.name) with no entry on the website yet: constants, which nbdev gives no `show_doc` entry of its
# own. Remove each one once its notebook mentions it in prose (as `name`): the test fails while this list is out of date.
UNDOCUMENTED = {'export.FORMAT', 'vision.models.OFFLINE_WEIGHTS', 'strategies.strategy_names'}

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
    tolerated = {f'{page_of_module(n.rsplit(".", 1)[0])}#{n.rsplit(".", 1)[1].lower()}' for n in UNDOCUMENTED}
    broken = []
    for h in sorted(h for h in hrefs if h.startswith(base)):
        url, frag = urldefrag(h)
        path = site/url[len(base):]
        if path.is_dir() or url.endswith('/'): path = path/'index.html'
        if not path.is_file(): broken.append(h)
        elif frag and frag not in ids_of(path) and f'{path.relative_to(site).as_posix()}#{frag}' not in tolerated: broken.append(h)
    assert not broken, f'broken links on {page}: {broken}'
    # Nothing is loaded from elsewhere: the site works from any static server, at any path
    srcs = js(b, "return [...document.querySelectorAll('[src], link[href]')].map(e => e.src || e.href)")
    assert all(s.startswith(base) for s in srcs), [s for s in srcs if not s.startswith(base)]
    missing = js(b, "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not missing, f'images that did not load on {page}: {missing}'
    # No Quarto or markdown source shows as text
    text = js(b, ARTICLE_TEXT)
    for leak in (':::', '{target=', '{.callout', '#| ', 'output-file:', '```', '<div', '<a href', '<table'):
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

def test_api_page(browser, base, site):
    nb = ROOT/'nbs'/'10_vision.data.ipynb'
    check_page(browser, base, site, 'vision.data.html', 'Data')
    headings = [e.text.strip() for e in browser.find_elements('css selector', 'article h2, article h3')]
    for h in md_headings(nb, levels=(2,)): assert h in headings
    import ftkit.vision.data
    for name in ftkit.vision.data.__all__:
        assert name in headings
        sig = js(browser, SECTION + "return s && s.querySelector('pre') && s.querySelector('pre').innerText", name.lower())
        assert sig and sig.startswith(f'def {name}('), sig
    assert len(browser.find_elements('css selector', 'article img')) >= n_images(nb) > 0
    # Doclinks to the names on the page resolve (checked above) and lead to their entries
    assert browser.find_elements('css selector', 'article a[href="vision.data.html#image_dls"], article a[href="#image_dls"]')

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

def test_every_public_name_is_documented(browser, base, site):
    """Each name in a module's `__all__` has its entry: functions and classes with their signature and docments (nbdev
    adds a `show_doc` entry for any exported one the notebook does not show itself), constants a mention"""
    from fastcore.docments import docments
    missing, stale = [], []
    for m in public_modules():
        mod = m.__name__.split('.', 1)[1]
        page = page_of_module(mod)
        browser.get(base + page)
        for name in m.__all__:
            o, key = getattr(m, name), f'{mod}.{name}'
            if callable(o):
                # The section the name's anchor leads to holds its signature (in a section of its own, or in a
                # chapter section named after it, which then has the anchor, as on the Quarto site)
                entry = js(browser, SECTION + """return s && [...s.querySelectorAll('pre')].some(p =>
                    new RegExp('^(def|class) ' + arguments[1] + '\\\\(').test(p.innerText.trim())) ? s.innerText : null""", name.lower(), name)
                found = bool(entry)
            else:
                entry = None
                found = name in js(browser, "return [...document.querySelectorAll('article code')].map(c => c.innerText)")
            if found == (key in UNDOCUMENTED): (stale if found else missing).append(key)
            if entry:
                norm = ' '.join(entry.split())
                docs = [v for v in docments(o).values() if isinstance(v, str) and v.strip()] if callable(o) else []
                if any(' '.join(d.split()) not in norm for d in docs): missing.append(f'{key} (its docments)')
    assert not missing, f'public names without an entry on the website: {missing}'
    assert not stale, f'now documented: remove {stale} from UNDOCUMENTED'

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
