"""Build the documentation website from the notebooks, without Quarto (which `nbdev_docs` needs). Run: make docs

nbdev processes the notebooks into `_proc/` as `nbdev_proc_nbs` does for Quarto (hidden cells dropped, directives
applied, doclinks added, frontmatter written), Sphinx renders them with myst-nb and the book theme, and this adapter
turns what Quarto would read into what Sphinx reads:
- the raw frontmatter cell: `title` and `description` become the page's heading and summary, `output-file` its name;
- `#| include: false` drops a cell, `#| echo: false` hides its input, `#| output: false` its outputs, and
  `#| output: asis` makes its markdown output part of the page (as `show_doc` entries are);
- Quarto callouts (`::: {.callout-note}`) become admonitions, Pandoc link attributes (`[source](url){target=...}`)
  HTML links; links to notebooks, and doclinks to the site's own address, become relative links to pages;
- `sidebar.yml` gives the pages and their order: each section becomes a captioned table of contents.
The `show_doc` entries are rendered from the package itself, where nbdev would run each notebook's imports and exported
cells (settings.ini skips its `exec_show_docs`): building the docs runs no notebook code.
"""
import posixpath, re, shutil, sys
from configparser import ConfigParser
from importlib import import_module
from pathlib import Path
import nbformat, yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout's package, whichever one is installed
PROC, SRC, BUILD = ROOT/'_proc', ROOT/'_docs'/'src', ROOT/'_docs'/'html'

def _settings():
    cfg = ConfigParser(delimiters=['='])
    cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']

def proc_nbs():
    "What `nbdev_proc_nbs` does, less its check for the Quarto binary"
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()
    return proc_nbs(force=True, n_workers=0)

def _leaves(o):
    "The notebooks of a `sidebar.yml` entry, in order"
    if isinstance(o, str): return [o]
    return ([o['href']] if 'href' in o else []) + [f for c in o.get('contents', []) for f in _leaves(c)]

def sidebar(path):
    "`[(caption, [notebook, ...]), ...]` from nbdev's `sidebar.yml`: its top-level entries (no caption), then its sections"
    contents = yaml.safe_load(path.read_text())['website']['sidebar']['contents']
    res = [(None, [o for o in contents if isinstance(o, str)])]
    res += [(o['section'], _leaves(o)) for o in contents if not isinstance(o, str)]
    return [o for o in res if o[1]]

_callout_re = re.compile(r'^(:{3,})\s*\{\.callout-(\w+)([^}]*)\}\s*\n(?:#+\s+(.*)\n)?', flags=re.M)
_div_re = re.compile(r'^(:{3,})\s*\{\.([\w-]+)[^}]*\}\s*$', flags=re.M)
_attr_link_re = re.compile(r'\[([^\]]+)\]\(([^)\s]+)\)\{([^}]*)\}')

def _callout(m):
    fence, kind, attrs, heading = m.groups()
    title = re.search(r'title="([^"]*)"', attrs)
    title = heading or (title.group(1) if title else None)
    if title: return f'{fence}{{admonition}} {title}\n:class: {kind}\n'
    return f'{fence}{{{kind}}}\n'

def _attr_link(m):
    txt, url, attrs = m.groups()
    attrs = ' '.join(re.findall(r'[\w-]+="[^"]*"', attrs))
    return f'<a href="{url}" {attrs}>{txt}</a>'

_fence_re = re.compile(r'^(```|~~~).*?^\1', flags=re.M|re.S)
_code_link_re = re.compile(r'\[(`[^`]+`)\]\([^)\s]+\)')

def _unlink_code(s):
    "Doclinks nbdev added inside fenced code (show_doc's docments comments) back to plain names"
    return _fence_re.sub(lambda m: _code_link_re.sub(r'\1', m.group(0)), s)

_nb_link_re = re.compile(r'\]\(([^)\s#:]+\.ipynb)(#[^)\s]*)?\)')

def md(s, site_url, here, names):
    "Quarto markdown `s` as MyST markdown, on the page from notebook `here`; `names` maps notebooks to pages"
    s = _unlink_code(_callout_re.sub(_callout, s))
    s = _div_re.sub(r'\1{container} \2', s)
    s = _attr_link_re.sub(_attr_link, s)
    d = posixpath.dirname(here)
    def _nb_link(m):
        nb = posixpath.normpath(posixpath.join(d, m.group(1)))
        if nb not in names: return m.group(0)
        return f"]({posixpath.relpath(names[nb]+'.html', d or '.')}{m.group(2) or ''})"
    s = _nb_link_re.sub(_nb_link, s)
    return re.sub(re.escape(site_url.rstrip('/')) + r'/', '../'*len(Path(d).parts), s)

def _directives(src): return dict(re.findall(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$', src, flags=re.M))

def _md_output(cell):
    "The markdown a `#| output: asis` cell writes"
    res = []
    for o in cell.get('outputs', []):
        if o.output_type=='stream': res.append(o.text)
        elif 'data' in o:
            if 'text/markdown' in o.data: res.append(o.data['text/markdown'])
            elif 'text/plain' in o.data: res.append(o.data['text/plain'])
    return re.sub(r'\A\s*---\s*\n', '', '\n\n'.join(res))  # show_doc's leading rule: the entry is a section here

def cells(nb, *args):
    "The cells of processed notebook `nb` as myst-nb reads them"
    for c in nb.cells:
        if c.cell_type=='raw':
            if c.get('metadata', {}).get('raw_mimetype') in ('text/html', 'text/markdown'): yield nbformat.v4.new_markdown_cell(c.source)
            continue
        if c.cell_type=='markdown':
            c.source = md(c.source, *args)
            yield c
            continue
        d = _directives(c.source)
        if d.get('include')=='false': continue
        if d.get('output')=='asis':
            yield nbformat.v4.new_markdown_cell(md(_md_output(c), *args))
            if d.get('echo')=='false': continue
            c.outputs = []
        c.source = re.sub(r'^#\|.*(\n|$)', '', c.source, flags=re.M).strip()
        if d.get('echo')=='false': c.metadata.setdefault('tags', []).append('remove-input')
        if d.get('output')=='false': c.outputs = []
        for o in c.get('outputs', []):
            if 'data' in o and 'text/markdown' in o.data: o.data['text/markdown'] = md(o.data['text/markdown'], *args)
        if c.source or c.outputs: yield c

def _frontmatter(nb):
    "The YAML frontmatter nbdev writes in a raw first cell, removed from `nb`"
    if not (nb.cells and nb.cells[0].cell_type=='raw' and nb.cells[0].source.startswith('---')): return {}
    return yaml.safe_load(nb.cells.pop(0).source.strip().strip('-')) or {}

_show_doc_re = re.compile(r'^show_doc\((.+)\)$')

def _show_doc_expr(c):
    m = c.cell_type=='code' and _show_doc_re.match(re.sub(r'^#\|.*(\n|$)', '', c.source, flags=re.M).strip())
    return m.group(0) if m else None

def show_docs(nb, mod, fname):
    "Render `nb`'s `show_doc` entries afresh from module `mod` (nbdev would run the notebook's own code for them)"
    from nbdev.doclinks import NbdevLookup
    from nbdev.showdoc import show_doc
    # nbdev adds an entry after each exported cell for names the notebook does not show, but misses `@patch`ed methods
    auto = [c.pop('has_sd', False) for c in nb.cells]
    shown = {_show_doc_expr(c) for c,a in zip(nb.cells, auto) if not a}
    nb.cells = [c for c,a in zip(nb.cells, auto) if not (a and _show_doc_expr(c) in shown)]
    nl, ns = NbdevLookup(), {**vars(mod), 'show_doc': show_doc}
    for c in nb.cells:
        expr = _show_doc_expr(c)
        if not expr: continue
        try: r = eval(expr, ns)
        except Exception as e:
            print(f'{fname}: {expr} could not be rendered from {mod.__name__} ({e!r}): showing the output kept in the notebook')
            continue
        doc = r._repr_markdown_()
        # nbdev finds the source line of a name defined in the notebook, not of one imported from the package
        if '#LNone)' in doc and nl.code(r.nm): doc = re.sub(r'\]\([^)]*#LNone\)', '](' + nl.code(r.nm) + ')', doc)
        c.outputs = [nbformat.v4.new_output('display_data', data={'text/markdown': nl.linkify(doc)})]

def _toctree(caption, docs):
    opts = ':hidden:\n' + (f':caption: {caption}\n' if caption else '')
    return nbformat.v4.new_markdown_cell(f'```{{toctree}}\n{opts}\n' + '\n'.join(docs) + '\n```')

def convert(proc=PROC, src=SRC):
    "Write the notebooks in `proc` (nbdev's output) to `src` as Sphinx sources"
    from nbdev.doclinks import NbdevLookup
    cfg = _settings()
    site_url, lookup = cfg['doc_host'] + cfg['doc_baseurl'], NbdevLookup()
    sections = sidebar(proc/'sidebar.yml')
    listed = {nb for _,nbs in sections for nb in nbs}
    unlisted = sorted(str(p.relative_to(proc)) for p in proc.rglob('*.ipynb') if str(p.relative_to(proc)) not in listed)
    if unlisted: sys.exit(f"Not in nbs/sidebar.yml, so not on the website: {', '.join(unlisted)}. Add them to it.")
    if src.exists(): shutil.rmtree(src)
    books = {f: nbformat.read(proc/f, as_version=4) for f in listed}
    fms = {f: _frontmatter(nb) for f,nb in books.items()}
    names = {f: posixpath.join(posixpath.dirname(f), Path(fms[f].get('output-file', f)).stem) for f in books}
    mods = {v[0].split('#')[0]: k for k,syms in import_module(f"{cfg['lib_path']}._modidx").d['syms'].items() for v in syms.values()}
    for f,nb in books.items():
        if names[f]+'.html' in mods: show_docs(nb, import_module(mods[names[f]+'.html']), f)
        head = f"# {fms[f].get('title', names[f])}"
        if fms[f].get('description'): head += '\n\n> ' + md(lookup.linkify(fms[f]['description']), site_url, f, names)
        nb.cells = [nbformat.v4.new_markdown_cell(head), *cells(nb, site_url, f, names)]
        nb.metadata['language_info'] = {'name': 'python'}
        dest = src/(names[f] + '.ipynb')
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    root = nbformat.read(src/'index.ipynb', as_version=4)
    tocs = [(cap, [names[f] for f in nbs if names[f]!='index']) for cap,nbs in sections]
    root.cells += [_toctree(cap, docs) for cap,docs in tocs if docs]
    nbformat.write(root, src/'index.ipynb')

def sphinx(src=SRC, out=BUILD):
    "Render `src` into `out` with the settings in `scripts/sphinx/conf.py`; warnings are errors"
    from sphinx.cmd.build import build_main
    if out.exists(): shutil.rmtree(out)
    args = ['-b', 'html', '-q', '-W', '--keep-going', '-j', '1', '-c', str(ROOT/'scripts'/'sphinx'), '-d', str(out.parent/'doctrees'), str(src), str(out)]
    if build_main(args): sys.exit('Sphinx could not build the website: see the warnings above')

def _check_dest(dest):
    if dest.exists() and {p.name for p in dest.iterdir()} - {'README.md'} and not (dest/'searchindex.js').exists():
        sys.exit(f'{dest} holds files other than a website: give an empty or new folder')

def publish(out, dest):
    "Replace the site in `dest` by `out`, keeping `dest`'s README.md"
    _check_dest(dest)
    keep = (dest/'README.md').read_text() if (dest/'README.md').exists() else None
    if dest.exists(): shutil.rmtree(dest)
    shutil.copytree(out, dest)
    (dest/'.buildinfo').unlink(missing_ok=True)
    if keep is not None: (dest/'README.md').write_text(keep)

def main(dest='docs'):
    _check_dest(ROOT/dest)
    proc_nbs()
    convert()
    sphinx()
    publish(BUILD, ROOT/dest)

if __name__=='__main__': main(*sys.argv[1:2])
