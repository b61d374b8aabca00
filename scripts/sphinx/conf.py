"Sphinx settings for the ftkit website, which `make docs` (scripts/docs.py) builds from the processed notebooks."
import re
from configparser import ConfigParser
from pathlib import Path
from docutils import nodes

_cfg = ConfigParser(delimiters=['='])
_cfg.read(Path(__file__).resolve().parents[2]/'settings.ini', encoding='utf-8')
_cfg = _cfg['DEFAULT']

project = _cfg['lib_name']
author, copyright, version = _cfg['author'], _cfg['copyright'], _cfg['version']
release = version
html_title = f'{project} {version}'                # the version on every page, above the sidebar

extensions = ['myst_nb', 'sphinx.ext.githubpages',  # githubpages writes .nojekyll, so that `_static/` is served
              'sphinx_copybutton']                  # a copy button on every code block
myst_enable_extensions = ['colon_fence', 'dollarmath', 'amsmath']  # `$$...$$` is math
myst_all_links_external = True                      # links are to pages (`data.html#image_dls`), as on the Quarto site
nb_execution_mode = 'off'                           # the outputs kept in the notebooks are the content
nb_render_markdown_format = 'myst'
nb_merge_streams = True
suppress_warnings = ['myst.header']                 # `show_doc` entries are H3 under any heading level
add_module_names = False                            # `image_dls(...)`, not `ftkit.vision.data.image_dls(...)`
python_maximum_signature_line_length = 88           # longer signatures get a parameter per line
python_display_short_literal_types = True
copybutton_exclude = '.linenos, .gp, .go'           # prompts and outputs are not copied
copybutton_prompt_text = r'\$ '                     # nor a shell prompt
copybutton_prompt_is_regexp = True

# Math is rendered by MathJax 3 from a copy shipped in a Python package (sphinx-mathjax-offline), not from a CDN: the
# site works offline. Only its one-file SVG build is copied into the site (see `_copy_mathjax`).
mathjax_path = 'mathjax/tex-svg.js'  # under _static/

html_theme = 'sphinx_book_theme'
html_theme_options = {
    'repository_url': _cfg['git_url'], 'repository_branch': _cfg['branch'], 'path_to_docs': _cfg['nbs_path'],
    'use_repository_button': True, 'use_download_button': False, 'home_page_in_toc': True, 'show_toc_level': 2,
    'navbar_persistent': [],  # one search field, the sidebar's
}
html_copy_source = html_show_sourcelink = False
html_last_updated_fmt = None

def pandoc_id(s):
    "The id Quarto (Pandoc) gives a heading with text `s`, which nbdev's doclinks point at"
    s = re.sub(r'\s+', '-', re.sub(r'[^\w\s.-]', '', s.lower()).strip())
    return re.sub(r'^[^a-z]+', '', s)

def _pandoc_ids(app, doctree):
    "Give each section its Quarto id too (docutils' own turns `image_dls` into `image-dls`)"
    for sec in doctree.findall(nodes.section):
        i = pandoc_id(sec[0].astext())
        if i and i not in doctree.ids:
            sec['ids'].append(i)
            doctree.ids[i] = sec

def _copy_mathjax(app, exc):
    import importlib.util, shutil
    if exc or app.builder.name != 'html': return
    spec = importlib.util.find_spec('sphinx-mathjax-offline')
    if spec is None: raise RuntimeError('sphinx-mathjax-offline is not installed: `make install` installs it')
    dest = Path(app.outdir)/'_static'/'mathjax'
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(spec.origin).parent/'static'/'mathjax'/'tex-svg.js', dest/'tex-svg.js')

def _signature_ids(app, doctree):
    "Give each API entry the id nbdev's doclinks use (`predictor.probs`) besides Sphinx's (`ftkit.export.Predictor.probs`)"
    from sphinx import addnodes
    for sig in doctree.findall(addnodes.desc_signature):
        i = sig.get('fullname', '').lower()
        if i and i not in doctree.ids and not sig.parent.get('noindex'):
            sig['ids'].append(i)
            doctree.ids[i] = sig

def setup(app):
    app.connect('doctree-read', _pandoc_ids)
    app.connect('doctree-read', _signature_ids)
    app.connect('build-finished', _copy_mathjax)
toc_object_entries = False                          # entries are listed by their headings, not twice
smartquotes = False                                 # `--out` stays two hyphens, quotes stay straight
