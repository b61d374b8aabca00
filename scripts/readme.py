"""Write README.md from nbs/index.ipynb, with its outputs, without Quarto (which `nbdev_readme` needs).

Cells flagged `#| hide` are dropped and other `#|` directives removed, as nbdev does; HTML outputs keep
their tables but lose `<style>` blocks, which GitHub and PyPI do not render. Links to other notebooks, relative to
nbs/ in the notebook (where the website resolves them), are made relative to the repository's root, where README.md
lives. Run: make readme
"""
import re, sys
import nbformat
from nbconvert import MarkdownExporter

def _hidden(src): return any(d.split()[0] in ('hide','export','exporti','default_exp') for d in re.findall(r'^#\|\s*(\S.*)$', src, flags=re.M))

def _clean_output(o):
    "`o` with `<style>` blocks removed, or None for HTML that is only styling or a progress bar"
    if 'data' in o and 'text/html' in o.data:
        html = re.sub(r'<style.*?</style>', '', o.data['text/html'], flags=re.S)
        if '<table' not in html: return None
        o.data = {'text/html': html}
    return o

def readme(src, dest):
    nb = nbformat.read(src, as_version=4)
    nb.metadata['language_info'] = {'name': 'python'}
    nb.cells = [c for c in nb.cells if not (c.cell_type=='code' and _hidden(c.source))]
    for c in nb.cells:
        if c.cell_type!='code': continue
        c.source = re.sub(r'^#\|.*(\n|$)', '', c.source, flags=re.M)
        c.outputs = [o for o in map(_clean_output, c.outputs) if o is not None]
    body,_ = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True).from_notebook_node(nb)
    body = re.sub(r'\]\((?!https?:|#|/|nbs/)([^)\s]+\.ipynb(?:#[^)\s]*)?)\)', r'](nbs/\1)', body)  # the notebooks live in nbs/
    open(dest, 'w').write('<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file -->\n\n' + body.strip() + '\n')

if __name__=='__main__': readme(*sys.argv[1:3])
