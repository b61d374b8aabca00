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
import ast, functools, inspect, posixpath, re, shutil, sys, typing
from configparser import ConfigParser
from importlib import import_module
from pathlib import Path
import nbformat, yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout's package, whichever one is installed
PROC, SRC, BUILD = ROOT/'_proc', ROOT/'_docs'/'src', ROOT/'_docs'/'html'
LIB = 'ftkit'

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
    up = '../'*len(Path(d).parts)
    s = s.replace('(' + site_url.rstrip('/') + '/)', f'({up}index.html)')  # a link to the site itself: its home page
    return re.sub(re.escape(site_url.rstrip('/')) + r'/', up, s)

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

# API entries. nbdev's `show_doc` writes a signature as a code block with the parameters' docments as comments; the site
# renders each entry as Sphinx's Python domain does (signature, then a table of parameters, classes with their public
# methods), so that the general index, the module index and `objects.inv` list every documented name.
from fastcore.docments import docments

@functools.cache
def _events()->set:
    "fastai's callback events (`before_fit`, ...), which callbacks implement and do not document"
    from fastai.callback.core import _events
    return set(_events)

def _anno(a):
    "Annotation `a` as it reads in source: `str | None`, never `NoneType`"
    if a is inspect.Parameter.empty or a is inspect.Signature.empty: return ''
    if isinstance(a, typing.ForwardRef): a = a.__forward_arg__
    s = a if isinstance(a, str) else inspect.formatannotation(a)
    return re.sub(r'\bNoneType\b', 'None', s.replace('typing.', ''))

def _default(d):
    "A default as source would write it; `...` where its repr is not an expression (an object's address, say)"
    if d is inspect.Parameter.empty: return ''
    if inspect.isfunction(d) or inspect.isclass(d): return d.__name__ if d.__name__.isidentifier() else '...'  # not `<lambda>`
    s = repr(d)
    try: ast.parse(s, mode='eval')
    except SyntaxError: return '...'
    return s if len(s) <= 60 else '...'

def _init_owner(cls):
    "The class whose `__init__` or `__new__` makes `cls`'s instances (the first in its MRO that defines one)"
    return next((c for c in cls.__mro__ if '__init__' in c.__dict__ or ('__new__' in c.__dict__ and c is not object)), object)

def _own_signature(o):
    "The signature a reader calls `o` with: none for a class built by another library's `__init__` (fastai's callbacks)"
    if inspect.isclass(o):
        owner = _init_owner(o)
        if owner is object or not owner.__module__.startswith(LIB + '.'): return None
    try: sig = inspect.signature(o)
    except (TypeError, ValueError): return None
    return sig

def _params(sig, skip_first=False):
    ps = list(sig.parameters.values())
    return ps[1:] if skip_first and ps and ps[0].name in ('self', 'cls') else ps

def _sig_str(name, sig, skip_first=False):
    "`name(a: int = 1, *, b=None) -> str`, what Sphinx's `py:function` parses"
    if sig is None: return name
    parts, kw_marked, ps = [], False, _params(sig, skip_first)
    for j,p in enumerate(ps):
        if p.kind!=p.POSITIONAL_ONLY and j and ps[j-1].kind==p.POSITIONAL_ONLY: parts.append('/')
        if p.kind==p.KEYWORD_ONLY and not kw_marked: parts.append('*'); kw_marked = True
        if p.kind==p.VAR_POSITIONAL: kw_marked = True
        s = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '') + p.name
        if _anno(p.annotation): s += f': {_anno(p.annotation)}'
        if p.default is not p.empty: s += (' = ' if _anno(p.annotation) else '=') + _default(p.default)
        parts.append(s)
    if ps and ps[-1].kind==ps[-1].POSITIONAL_ONLY: parts.append('/')
    ret = _anno(sig.return_annotation)
    return f"{name}({', '.join(parts)})" + (f' -> {ret}' if ret and ret!='None' else '')

def _cell(s): return str(s).replace('|', '\\|').replace('\n', ' ')

def _param_table(o, sig, skip_first, linkify):
    "A markdown table of `o`'s parameters: name, type, default, description (its docments, as markdown)"
    if sig is None: return ''
    try: dm = docments(o, full=True)
    except Exception: dm = {}
    rows = []
    for p in _params(sig, skip_first):
        d = dm.get(p.name, {}).get('docment') or ''
        name = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '') + p.name  # (in a code span: no escapes)
        t, dflt = _anno(p.annotation), _default(p.default)
        rows.append(f"| `{name}` | {f'`{_cell(t)}`' if t else ''} | {f'`{_cell(dflt)}`' if dflt else ''} | {_cell(linkify(d))} |")
    if not rows: return ''
    ret = dm.get('return', {}).get('docment') if dm else None
    res = '| Parameter | Type | Default | Description |\n|---|---|---|---|\n' + '\n'.join(rows) + '\n'
    if ret: res += f"\n**Returns**{f' `{_anno(sig.return_annotation)}`' if _anno(sig.return_annotation) else ''}: {linkify(ret)}\n"
    return res

def _kind(o, raw, cls):
    "The `py:` directive of `o`, found as `raw` in the body of class `cls` (None for a module-level name)"
    if inspect.isclass(o): return 'exception' if issubclass(o, BaseException) else 'class'
    if isinstance(raw, property): return 'property'
    return 'function' if cls is None else 'method'

def public_methods(cls):
    """The public methods and properties `cls` adds (in its own body), less those it overrides from a base class
    (a task's interface, fastai's callback events and `Transform` hooks are documented where they are declared)"""
    res = []
    for k,v in cls.__dict__.items():
        if k.startswith('_') or k in _events(): continue
        if any(k in b.__dict__ for b in cls.__mro__[1:]): continue
        if isinstance(v, (staticmethod, classmethod)): v = v.__func__
        if isinstance(v, property) or inspect.isfunction(v): res.append(k)
    return res

def _doc(o): return inspect.getdoc(o) or ''

def entry(o, name, module, linkify, methods=(), noindex=False, cls=None):
    "The MyST markdown of `o`'s entry: a `py:` directive with its signature, docstring, parameters, and methods"
    raw = cls.__dict__.get(name.rsplit('.', 1)[-1]) if cls is not None else None
    kind = _kind(o, raw, cls)
    opts = [f':module: {module}'] + ([':no-index:'] if noindex else [])
    if isinstance(raw, staticmethod): opts.append(':staticmethod:')
    if isinstance(raw, classmethod): opts.append(':classmethod:')
    if kind=='property':
        f = raw.fget
        t = _anno(inspect.signature(f).return_annotation)
        if t: opts.append(f':type: {t}')
        head, body = name, linkify(_doc(f))
    else:
        sig = _own_signature(o)
        skip = inspect.isfunction(o) and cls is not None and not isinstance(raw, staticmethod)  # `self` (bound class methods have no `cls`)
        head = _sig_str(name, sig, skip_first=skip)
        body = linkify(_doc(o))
        table = _param_table(o, sig, skip, linkify)
        if table: body += '\n\n' + table
    inner = ''.join('\n' + entry(getattr(o, m), m, module, linkify, noindex=noindex, cls=o) for m in methods)
    f = '::::' if inner else ':::'  # a class's fence is longer than its methods' 
    return f"{f}{{py:{kind}}} {head}\n" + '\n'.join(opts) + f"\n\n{body}\n{inner}\n{f}\n"

def constant_entry(mod, name, linkify):
    "A `py:data` entry of constant `name`, described by the comment on (or above) its assignment in the module's source"
    o, desc = getattr(mod, name), ''
    lines = inspect.getsource(mod).splitlines()
    for i,l in enumerate(lines):
        if re.match(rf'^{re.escape(name)}\s*(:[^=]+)?=', l):
            m = re.search(r'#\s*(.*)$', l)
            above = []
            for j in range(i-1, -1, -1):
                if not lines[j].startswith('#') or lines[j].startswith('#|') or lines[j].startswith('# %%'): break
                above.insert(0, lines[j].lstrip('#').strip())
            desc = ' '.join(above) or (m.group(1) if m else '')
            break
    v = repr(o)
    val = v if len(v) <= 80 else f'{type(o).__name__} of {len(o)} entries' if hasattr(o, '__len__') else type(o).__name__
    return (f":::{{py:data}} {name}\n:module: {mod.__name__}\n:type: {type(o).__name__}\n\n{linkify(desc)}\n\n"
            f"Value: `` {val} ``\n:::\n")

_show_doc_re = re.compile(r'^show_doc\((.+)\)$')

def _src(c): return re.sub(r'^#\|.*(\n|$)', '', c.source, flags=re.M).strip()
def _show_doc_expr(c):
    m = c.cell_type=='code' and _show_doc_re.match(_src(c))
    return m.group(0) if m else None

def _md_cell(s):
    "A code cell that shows `s` as its markdown output, as a `#| output: asis` cell does"
    c = nbformat.v4.new_code_cell('#| echo: false\n#| output: asis\n')
    c.outputs = [nbformat.v4.new_output('display_data', data={'text/markdown': s})]
    return c

def _heading(name, nl, level=3):
    src = nl.code(name)
    link = f'[source]({src}){{target="_blank" style="float:right; font-size:smaller"}}\n\n' if src and 'LNone' not in src else ''
    return f"{link}{'#'*level} {name}\n\n"

def show_docs(nb, mod, fname):
    """Render `nb`'s `show_doc` entries afresh from module `mod` (nbdev would run the notebook's own code for them), as
    `py:` entries; give each constant of `mod.__all__` an entry after the cell that assigns it"""
    from nbdev.doclinks import NbdevLookup
    from nbdev.showdoc import show_doc
    # nbdev adds an entry after each exported cell for names the notebook does not show, but misses `@patch`ed methods
    auto = [c.pop('has_sd', False) for c in nb.cells]
    shown = {_show_doc_expr(c) for c,a in zip(nb.cells, auto) if not a}
    nb.cells = [c for c,a in zip(nb.cells, auto) if not (a and _show_doc_expr(c) in shown)]
    nl, ns = NbdevLookup(), {**vars(mod), 'show_doc': show_doc}
    link = lambda s: nl.linkify(s) if s else ''
    # constants
    consts = [n for n in getattr(mod, '__all__', []) if not callable(getattr(mod, n)) and not inspect.ismodule(getattr(mod, n))]
    # nbdev leaves exported cells out of the page: each entry goes before the first cell after the assignment that is kept
    orig = nbformat.read(ROOT/'nbs'/fname, as_version=4).cells if consts else []
    for n in consts:
        at = next((i for i,c in enumerate(orig) if c.cell_type=='code' and re.search(rf'^{re.escape(n)}\s*(:[^=\n]+)?=', c.source, flags=re.M)), None)
        if at is None: sys.exit(f'{fname}: no cell assigns {n}, a public constant of {mod.__name__}')
        kept = {c.source:i for i,c in reversed(list(enumerate(nb.cells)))}  # (the first cell of a source)
        nxt = next((kept[c.source] for c in orig[at+1:] if c.source in kept), len(nb.cells))
        nb.cells.insert(nxt, _md_cell(_heading(n, nl) + constant_entry(mod, n, link)))
    # methods with an entry of their own on the page are left out of their class's entry
    separate = {m.group(1).split(',')[0].strip() for c in nb.cells if (m := _show_doc_re.match(_src(c) if c.cell_type=='code' else ''))}
    for c in nb.cells:
        if c.cell_type!='code': continue
        expr = _show_doc_expr(c)
        if not expr: continue
        try: r = eval(expr, ns)
        except Exception as e:
            sys.exit(f'{fname}: {expr} could not be rendered from {mod.__name__} ({e!r})')
        o, name, cls = r.sym, r.nm, None
        arg = _show_doc_re.match(expr).group(1).split(',')[0].strip()
        if '.' in arg and '.' not in name and re.fullmatch(r'[\w.]+', arg): name = arg  # a patched method whose decorators hid its class (`Learner.on_features`)
        if '.' in name:
            owner = eval(name.rsplit('.', 1)[0], ns)
            if inspect.isclass(owner): cls = owner
        noindex = cls is None and getattr(o, '__module__', mod.__name__) != mod.__name__  # indexed where its module is documented
        methods = [m for m in public_methods(o) if f'{name}.{m}' not in separate] if inspect.isclass(o) else []
        doc = _heading(name, nl) + entry(o, name, mod.__name__, link, methods=methods, noindex=noindex, cls=cls)
        c.outputs = [nbformat.v4.new_output('display_data', data={'text/markdown': doc})]

def live_cells(nb):
    "Cells that show `cli_reference()`: rendered afresh from the package's parser, so the page lists the options it has"
    for c in nb.cells:
        if c.cell_type=='code' and re.fullmatch(r'(Markdown\()?cli_reference\(\)\)?', _src(c)):
            from ftkit.cli import cli_reference
            c.outputs = [nbformat.v4.new_output('display_data', data={'text/markdown': cli_reference()})]

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
    for m in sorted(set(mods.values())): import_module(m)  # every module first: a class's page lists the methods other modules `@patch` onto it, whatever the order of the pages
    for f,nb in books.items():
        mod = mods.get(names[f]+'.html')
        if mod: show_docs(nb, import_module(mod), f)
        live_cells(nb)
        head = f"# {fms[f].get('title', names[f])}"
        # the module index's entry, and the page's target for it (a target before the title becomes the page's own)
        if mod: head = f'```{{py:module}} {mod}\n```\n\n' + head
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
