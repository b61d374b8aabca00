"Sphinx settings for the ftkit website, which `make docs` (scripts/docs.py) builds from the processed notebooks."
import re
from configparser import ConfigParser
from pathlib import Path
from docutils import nodes

_cfg = ConfigParser(delimiters=['='])
_cfg.read(Path(__file__).resolve().parents[2]/'settings.ini', encoding='utf-8')
_cfg = _cfg['DEFAULT']

project = html_title = _cfg['lib_name']
author, copyright, version = _cfg['author'], _cfg['copyright'], _cfg['version']
release = version

extensions = ['myst_nb', 'sphinx.ext.githubpages']  # githubpages writes .nojekyll, so that `_static/` is served
myst_enable_extensions = ['colon_fence']            # `:::{note}` admonitions, what Quarto callouts become
myst_all_links_external = True                      # links are to pages (`data.html#image_dls`), as on the Quarto site
nb_execution_mode = 'off'                           # the outputs kept in the notebooks are the content
nb_render_markdown_format = 'myst'
nb_merge_streams = True
suppress_warnings = ['myst.header']                 # `show_doc` entries are H3 under any heading level

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

def setup(app): app.connect('doctree-read', _pandoc_ids)
